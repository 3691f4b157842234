//! The row-sparse step: only the batch's rows of each embedding table are gathered, updated by
//! a row-wise optimiser and written back (host blocks on CPU backends, device tensors elsewhere).

use super::*;

/// Where row-sparse training keeps the full tables and their optimiser state.
pub(super) enum RowStore {
    /// `[n, d]` device tensors, updated with `select_assign` (every backend but flex and
    /// ndarray: wgpu, cuda, …).
    Device(Vec<RowState>),
    /// Host buffers, one per side, all of a user's (item's) rows and state in one block (CPU
    /// backends flex and ndarray).
    Host(HostStore),
}

/// The module's tables in [`HostTables`], one per side (and row count).
pub(super) struct HostStore {
    /// One block store per group of tables.
    pub(super) groups: Vec<HostTables>,
    /// The ids that index each group.
    pub(super) group_side: Vec<TableSide>,
    /// For each module table (in [`RatingModule::sparse_tables`] order): its group and its
    /// place in that group.
    pub(super) place: Vec<(usize, usize)>,
}

impl HostStore {
    /// Groups tables `weights[i]` (`[rows, dim]`, read back to the host) indexed by
    /// `sides[i]`: tables of one side with the same number of rows share blocks. Each group's
    /// tensors are dropped once copied.
    pub(super) fn new(sides: &[TableSide], weights: Vec<Tensor<2>>, opt: RowOptimizer) -> Result<Self, TrainError> {
        let mut members: Vec<(TableSide, usize, Vec<usize>)> = Vec::new();
        let mut place = Vec::with_capacity(weights.len());
        for (i, (&side, w)) in sides.iter().zip(&weights).enumerate() {
            let rows = w.dims()[0];
            let g = match members.iter().position(|(s, r, _)| *s == side && *r == rows) {
                Some(g) => g,
                None => {
                    members.push((side, rows, Vec::new()));
                    members.len() - 1
                }
            };
            place.push((g, members[g].2.len()));
            members[g].2.push(i);
        }
        let mut weights: Vec<Option<Tensor<2>>> = weights.into_iter().map(Some).collect();
        let mut groups = Vec::with_capacity(members.len());
        for (_, rows, idx) in &members {
            let data: Vec<TensorData> = idx.iter().map(|&i| weights[i].take().expect("each table in one group").into_data()).collect();
            let mut tables = Vec::with_capacity(data.len());
            for d in &data {
                tables.push(d.as_slice::<f32>().map_err(|e| TrainError::Backend(format!("{e:?}")))?);
            }
            let dims: Vec<usize> = data.iter().map(|d| d.shape()[1]).collect();
            groups.push(HostTables::new(&tables, &dims, *rows, opt));
        }
        Ok(Self { groups, group_side: members.iter().map(|m| m.0).collect(), place })
    }

    /// Whether any group is large enough for several threads.
    pub(super) fn parallel(&self) -> bool {
        self.groups.iter().any(HostTables::parallel)
    }

    /// `model` (holding 1-row stand-ins) with the full tables, as `[n, d]` embeddings on
    /// `device`.
    pub(super) fn module<M: RatingModule>(&self, model: &M, device: &Device) -> M {
        let tables = self
            .place
            .iter()
            .map(|&(g, k)| {
                let t = &self.groups[g];
                Embedding { weight: Param::from_tensor(Tensor::from_data(TensorData::new(t.weights(k), [t.rows(), t.dims()[k]]), device)) }
            })
            .collect();
        model.with_tables(tables).expect("a module with tables rebuilds from them")
    }
}

#[cfg(test)]
thread_local! {
    /// Tests set this to train with the device-tensor store on a CPU backend, to compare it
    /// with the host blocks.
    pub(crate) static FORCE_DEVICE_ROWS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether `device` computes in host memory (flex, ndarray), where [`HostTables`] serve the
/// row-sparse step.
pub(super) fn host_tables(device: &Device) -> bool {
    #[cfg(test)]
    if FORCE_DEVICE_ROWS.with(std::cell::Cell::get) {
        return false;
    }
    let d = device.clone().without_autodiff();
    #[allow(deprecated)] // ndarray is deprecated upstream; the design asks for it
    let ndarray = Device::ndarray();
    d == Device::flex() || d == ndarray
}

/// One row-sparse step (see [`crate::sparse`]): the batch's unique users and items, their rows
/// gathered into a small module (dense layers shared), the loss on ids remapped to those rows,
/// backward, the dense optimiser on the dense layers and the row optimiser on the full tables.
/// Returns (full loss, monitored loss, samples, new module).
#[allow(clippy::too_many_arguments)]
pub(super) fn sparse_step<M: RatingModule>(
    model: M,
    batch: Vec<Rating>,
    opt: RowOptimizer,
    store: &mut RowStore,
    optim: &mut burn::optim::ModuleOptimizer,
    lr: f64,
    step: u64,
    inner: &Device,
    ad: &Device,
    batch_loss: &impl Fn(&M, Vec<Rating>, &Device) -> (Tensor<1>, Tensor<1>, usize),
) -> (Tensor<1>, Tensor<1>, usize, M) {
    let users: Vec<u32> = batch.iter().map(|r| r.user).collect();
    let items: Vec<u32> = batch.iter().map(|r| r.item).collect();
    let (uu, ui) = (unique(&users), unique(&items));
    let sides: Vec<TableSide> = model.sparse_tables().expect("checked before training").into_iter().map(|(_, side)| side).collect();
    let features = |side, ids: &[u32]| if sides.contains(&side) { model.feature_rows(side, ids) } else { Vec::new() };
    let (user_features, item_features) = (features(TableSide::UserFeatures, &uu.ids), features(TableSide::ItemFeatures, &ui.ids));
    let rows = StepRows { users: &uu.ids, items: &ui.ids, user_features: &user_features, item_features: &item_features };
    let ids_of = |side: TableSide| rows.of(side);
    // Device store: one index tensor per side, shared by its tables' gathers and updates.
    let index: Vec<(TableSide, Tensor<1, Int>)> = match store {
        RowStore::Device(_) => {
            let mut index: Vec<(TableSide, Tensor<1, Int>)> = Vec::new();
            for &side in &sides {
                if !index.iter().any(|(s, _)| *s == side) {
                    index.push((side, index_tensor(ids_of(side), inner)));
                }
            }
            index
        }
        RowStore::Host(_) => Vec::new(),
    };
    let index_of = |side: TableSide| index.iter().find(|(s, _)| *s == side).map(|(_, t)| t.clone()).expect("one index tensor per side");
    let small: Vec<Embedding> = match store {
        RowStore::Device(_) => {
            let tables = model.sparse_tables().expect("checked before training");
            tables.into_iter().map(|(t, side)| gather(&t.weight.val(), &index_of(side), ad)).collect()
        }
        RowStore::Host(host) => {
            // Large tables: all groups in one parallel region (each splits again inside it);
            // small ones on this thread (waking another costs more than it saves).
            let read = |(t, &side): (&HostTables, &TableSide)| t.gather(ids_of(side));
            let mut gathered: Vec<Vec<Vec<f32>>> = if host.parallel() {
                host.groups.par_iter().zip(&host.group_side).map(read).collect()
            } else {
                host.groups.iter().zip(&host.group_side).map(read).collect()
            };
            host.place
                .iter()
                .map(|&(g, k)| {
                    let n = ids_of(host.group_side[g]).len();
                    let t = Tensor::<2>::from_data(TensorData::new(std::mem::take(&mut gathered[g][k]), [n, host.groups[g].dims()[k]]), inner);
                    Embedding { weight: Param::from_tensor(t.autodiff()) }
                })
                .collect()
        }
    };
    let small_model = model.with_batch_rows(small.clone(), &rows).expect("checked before training");
    // Owned once from here, so the backend can update the full tables (and the dense layers,
    // now held only by the small module) in place.
    let tables = model.into_tables();
    let local: Vec<Rating> = batch.iter().enumerate().map(|(k, r)| Rating { user: uu.local[k], item: ui.local[k], ..*r }).collect();
    let (loss, monitored, k) = batch_loss(&small_model, local, ad);
    let full = loss.clone().detach();
    let grads = loss.backward();
    let table_grads: Vec<Option<Tensor<2>>> = small.iter().map(|leaf| leaf.weight.val().grad(&grads)).collect();
    // Dense layers (if any): the trainer's optimiser, without the tables' gradients.
    let mut dense = GradientsParams::from_grads(grads, &small_model);
    for leaf in &small {
        dense.remove::<2>(leaf.weight.id);
    }
    let small_model = optim.step(lr, small_model, dense);
    let updated: Vec<Embedding> = match store {
        RowStore::Device(states) => tables
            .into_iter()
            .zip(&sides)
            .zip(table_grads)
            .zip(states.iter_mut())
            .map(|(((table, &side), grad), state)| {
                let weight = table.weight.into_value();
                let new = match grad {
                    Some(g) => state.apply(opt, weight, index_of(side), g, lr, step),
                    None => weight,
                };
                Embedding { weight: Param::from_tensor(new) }
            })
            .collect(),
        RowStore::Host(host) => {
            let mut grads: Vec<Vec<Option<Vec<f32>>>> = host.groups.iter().map(|t| vec![None; t.dims().len()]).collect();
            for (&(g, k), grad) in host.place.iter().zip(table_grads) {
                grads[g][k] = grad.map(|g| g.into_data().try_into_vec::<f32>().expect("float gradients read back as f32"));
            }
            let parallel = host.parallel();
            let apply = |((t, &side), grads): ((&mut HostTables, &TableSide), &Vec<Option<Vec<f32>>>)| {
                if grads.iter().any(Option::is_some) {
                    t.apply(opt, ids_of(side), grads, lr, step);
                }
            };
            if parallel {
                host.groups.par_iter_mut().zip(&host.group_side).zip(&grads).for_each(apply);
            } else {
                host.groups.iter_mut().zip(&host.group_side).zip(&grads).for_each(apply);
            }
            tables // the placeholders, back into the module
        }
    };
    (full.inner(), monitored.inner(), k, small_model.with_tables(updated).expect("checked before training"))
}
