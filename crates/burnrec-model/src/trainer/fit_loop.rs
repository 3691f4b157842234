//! The loop: seeded shuffled mini-batches, the optimiser step (dense, or row-sparse through
//! [`super::sparse_step`]), divergence detection, validation and early stopping.

use super::*;

/// The one training loop: for each epoch, `before_epoch(epoch)`, then seeded shuffled
/// mini-batches of `chunk` of `train`'s ratings (each expanding to about `per_rating` samples),
/// each turned by `batch_loss(model, ratings, device)` into `(loss to minimise, summed
/// monitored loss, samples)`, an optimiser step at the epoch's scheduled rate; after the epoch
/// the per-step losses are read back once (divergence names the first bad step), then
/// `metric` is measured and early stopping decides.
#[allow(clippy::too_many_arguments)]
pub(super) fn fit_loop<M: RatingModule>(
    mut model: M,
    train: &Interactions,
    cfg: &TrainConfig,
    chunk: usize,
    per_rating: usize,
    // Turns a chunk of training ratings into the samples `batch_loss` takes, with global ids
    // (explicit: the ratings; pointwise: positives and drawn negatives; pairwise: positive,
    // negative pairs), so that they can be remapped to the batch's local rows (row-sparse
    // updates).
    expand: &dyn Fn(Vec<Rating>) -> Vec<Rating>,
    device: &Device,
    mut before_epoch: impl FnMut(usize),
    batch_loss: impl Fn(&M, Vec<Rating>, &Device) -> (Tensor<1>, Tensor<1>, usize),
    metric: Option<ModuleMetric<'_, M>>,
) -> Result<Trained<M>, TrainError> {
    cfg.check()?;
    if train.is_empty() {
        return Err(TrainError::EmptyTrainSet);
    }
    if let (Some(es), None) = (cfg.early_stopping, &metric) {
        return Err(TrainError::Param {
            name: "early_stopping",
            value: format!("{{patience {}, min_delta {}}}", es.patience, es.min_delta),
            expected: "a validation set or metric to stop on (none was given)",
        });
    }
    let inner = device.clone().without_autodiff();
    let device = device.clone().autodiff();
    // Dropout masks come from the backend's generator: seed it so runs repeat.
    device.seed(cfg.seed);
    // Row-sparse updates: the full tables live without autodiff; each step trains a copy made
    // of the batch's rows.
    let sparse = match cfg.embedding_update {
        EmbeddingUpdate::Dense => None,
        EmbeddingUpdate::Sparse(opt) => {
            let n_tables = match model.sparse_tables() {
                Some(t) => t.len(),
                _ => {
                    return Err(TrainError::Param {
                        name: "embedding_update",
                        value: "sparse".into(),
                        expected: "dense for this model (row-sparse updates need a model with embedding tables)",
                    });
                }
            };
            // The tables move off autodiff (updated by the row optimiser); dense layers stay
            // trainable with their parameter ids (updated by `optim`). On CPU backends the
            // tables move into host buffers beside their state and the module keeps 1-row
            // placeholders until the epoch ends.
            let weights: Vec<Tensor<2>> = model.sparse_tables().expect("checked above").into_iter().map(|(t, _)| t.weight.val().without_autodiff()).collect();
            let store = if host_tables(&inner) {
                let sides: Vec<TableSide> = model.sparse_tables().expect("checked above").into_iter().map(|(_, s)| s).collect();
                // The module lets go of its tables first (1-row stand-ins), so each table's
                // memory is freed as soon as its group is copied into host blocks.
                let stand_ins = weights.iter().map(|w| Embedding { weight: Param::from_tensor(Tensor::zeros([1, w.dims()[1]], &inner)) }).collect();
                model = model.with_tables(stand_ins).expect("a module with tables rebuilds from them");
                let host = HostStore::new(&sides, weights, opt)?;
                RowStore::Host(host)
            } else {
                let tables = weights.into_iter().map(|w| Embedding { weight: Param::from_tensor(w) }).collect();
                model = model.with_tables(tables).expect("a module with tables rebuilds from them");
                RowStore::Device((0..n_tables).map(|_| RowState::default()).collect())
            };
            Some((opt, store))
        }
    };
    let mut sparse = sparse;
    let mut global_step = 0u64;
    let clip = cfg.grad_clip_norm.map(GradientClippingConfig::Norm);
    let mut optim = match cfg.optimizer {
        OptimizerKind::Adam => AdamConfig::new().with_grad_clipping(clip).init(),
        OptimizerKind::AdamW { weight_decay } => AdamWConfig::new().with_weight_decay(weight_decay).with_grad_clipping(clip).init(),
        OptimizerKind::Sgd => SgdConfig::new().with_gradient_clipping(clip).init(),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let n = train.len();
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut logs = Vec::with_capacity(cfg.epochs);
    let read = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().map_err(|e| TrainError::Backend(format!("{e:?}")));
    // (best value, its epoch, its weights)
    let mut best: Option<(f64, usize, M)> = None;
    let mut previous_loss = None;
    for epoch in 1..=cfg.epochs {
        let start = Instant::now();
        let lr = cfg.lr_schedule.rate(cfg.lr, epoch, cfg.epochs);
        before_epoch(epoch);
        let bar = progress_bar(cfg.progress, (n * per_rating) as u64, epoch, cfg.epochs, previous_loss);
        order.shuffle(&mut rng);
        // Per step: the monitored loss and the full loss (with the penalty), read back together.
        let mut step_losses: Vec<Tensor<1>> = Vec::with_capacity(n.div_ceil(chunk));
        let mut full_losses: Vec<Tensor<1>> = Vec::with_capacity(n.div_ceil(chunk));
        let mut step_sizes: Vec<usize> = Vec::with_capacity(n.div_ceil(chunk));
        // Samples (ratings, or positives with their negatives) trained on, for the progress bar
        // and the throughput; `step_sizes` counts the units the monitored loss is summed over
        // (samples, BPR triples, softmax positives).
        let mut samples = 0usize;
        for part in order.chunks(chunk) {
            global_step += 1;
            let ratings: Vec<Rating> = part.iter().map(|&r| train.get(r as usize)).collect();
            let batch = expand(ratings);
            let batch_samples = batch.len();
            let (loss, monitored, k) = if let Some((opt, store)) = sparse.as_mut() {
                let (loss, monitored, k, updated) = sparse_step(model, batch, *opt, store, &mut optim, lr, global_step, &inner, &device, &batch_loss);
                model = updated;
                full_losses.push(loss);
                (None, monitored, k)
            } else {
                let (loss, monitored, k) = batch_loss(&model, batch, &device);
                (Some(loss), monitored, k)
            };
            if let Some(loss) = loss {
                full_losses.push(loss.clone().detach());
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optim.step(lr, model, grads);
            }
            step_losses.push(monitored.detach());
            step_sizes.push(k);
            samples += batch_samples;
            bar.inc(batch_samples as u64);
        }
        // One read-back per epoch: the summed loss of every step.
        let steps = step_losses.len();
        let both = read(Tensor::cat(step_losses.into_iter().chain(full_losses).collect(), 0))?;
        let (sums, full) = both.split_at(steps);
        if let Some(step) = (0..steps).find(|&s| !(sums[s].is_finite() && full[s].is_finite())) {
            bar.abandon();
            let loss = if full[step].is_finite() { sums[step] / step_sizes[step].max(1) as f32 } else { full[step] };
            return Err(TrainError::Diverged { epoch, step: step + 1, loss: f64::from(loss) });
        }
        let units: usize = step_sizes.iter().sum();
        let loss = sums.iter().map(|&v| f64::from(v)).sum::<f64>() / units.max(1) as f64;
        let seconds = start.elapsed().as_secs_f64();
        bar.finish_with_message(format!("loss {loss:.4}"));
        previous_loss = Some(loss);
        // With host tables the module holds placeholders: validate (and keep) the full one.
        let full = match &sparse {
            Some((_, RowStore::Host(host))) if metric.is_some() => Some(host.module(&model, &inner)),
            _ => None,
        };
        let current = full.as_ref().unwrap_or(&model);
        let valid = metric.as_ref().map(|m| (m.score)(current));
        logs.push(EpochLog { epoch, train_loss: loss, seconds, samples_per_s: samples as f64 / seconds, lr, valid, peak_rss_mib: peak_rss_mib() });
        if cfg.progress && !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            // No progress bar without a terminal (a log file, CI): one line per epoch instead.
            let v = valid.map_or(String::new(), |v| format!(", valid {v:.4}"));
            eprintln!("epoch {epoch}/{}: loss {loss:.4}{v}, lr {lr:.3e}, {seconds:.2} s, {:.0} samples/s", cfg.epochs, samples as f64 / seconds);
        }
        if let (Some(es), Some(v), Some(m)) = (cfg.early_stopping, valid, metric.as_ref()) {
            // A non-finite metric never counts as an improvement (nor becomes the best).
            let improved = v.is_finite()
                && match &best {
                    None => true,
                    Some((b, _, _)) => {
                        if m.higher_is_better {
                            v > b + es.min_delta
                        } else {
                            v < b - es.min_delta
                        }
                    }
                };
            if improved {
                best = Some((v, epoch, current.clone()));
            } else if epoch - best.as_ref().map_or(0, |b| b.1) >= es.patience {
                break;
            }
        }
    }
    let (module, best_epoch) = match (best, &sparse) {
        (Some((_, epoch, weights)), _) => (weights, Some(epoch)),
        (None, Some((_, RowStore::Host(host)))) => (host.module(&model, &inner), None),
        (None, _) => (model, None),
    };
    // Sparse training kept the tables off autodiff: hand them back trainable, as they came.
    let module = match (&sparse, module.sparse_tables()) {
        (Some(_), Some(tables)) => {
            let back: Vec<Embedding> = tables.into_iter().map(|(t, _)| Embedding { weight: Param::from_tensor(t.weight.val().autodiff()) }).collect();
            module.with_tables(back).expect("a module with tables rebuilds from them")
        }
        _ => module,
    };
    Ok(Trained { module, history: logs, best_epoch })
}
