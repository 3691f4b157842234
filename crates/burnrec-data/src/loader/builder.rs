//! Building the dataset line by line: ids, values, timestamps, the duplicate policy, the
//! scale, the implicit threshold, and the messages that name the line and the field.

use super::*;

/// Keeps the elements of `v` whose `keep` flag is set.
pub(super) fn retain_mask<T>(v: &mut Vec<T>, keep: &[bool]) {
    let mut k = 0;
    v.retain(|_| {
        k += 1;
        keep[k - 1]
    });
}

/// Column positions resolved against the header.
pub(super) struct Cols {
    pub(super) user: usize,
    pub(super) item: usize,
    pub(super) rating: Option<usize>,
    pub(super) timestamp: Option<usize>,
    pub(super) max: usize,
}

/// Accumulates parsed lines into rating columns and id maps.
pub(super) struct Builder<'a> {
    pub(super) source: &'a str,
    pub(super) fmt: &'a DelimitedFormat,
    pub(super) opts: &'a LoadOptions,
    pub(super) cols: Option<Cols>,
    pub(super) users: IdMap,
    pub(super) items: IdMap,
    pub(super) user_idx: Vec<u32>,
    pub(super) item_idx: Vec<u32>,
    pub(super) values: Vec<f32>,
    pub(super) timestamps: Vec<i64>,
    pub(super) lines: Vec<u64>,
    /// The previous line's raw user id and index: files are usually grouped by user, so this
    /// skips most hash lookups.
    pub(super) last_user: (Vec<u8>, u32),
}

pub(super) fn utf8<'f>(source: &str, line: u64, field: &str, bytes: &'f [u8]) -> Result<&'f str, DataError> {
    std::str::from_utf8(bytes).map_err(|_| DataError::parse(source, line, field, "is not valid UTF-8"))
}

impl<'a> Builder<'a> {
    pub(super) fn new(source: &'a str, fmt: &'a DelimitedFormat, opts: &'a LoadOptions) -> Self {
        Self {
            source,
            fmt,
            opts,
            cols: None,
            users: IdMap::new(),
            items: IdMap::new(),
            user_idx: Vec::new(),
            item_idx: Vec::new(),
            values: Vec::new(),
            timestamps: Vec::new(),
            lines: Vec::new(),
            last_user: (Vec::new(), u32::MAX),
        }
    }

    /// Resolves the columns; `header` holds the first line's fields when the file has one.
    pub(super) fn resolve(&self, line: u64, header: Option<&[&str]>) -> Result<Cols, DataError> {
        let find = |role: &str, c: &Column| -> Result<usize, DataError> {
            match c {
                Column::Index(i) => Ok(*i),
                Column::Name(n) => {
                    let h = header.unwrap_or_default();
                    h.iter().position(|f| f == n).ok_or_else(|| DataError::parse(self.source, line, role, format!("no column named `{n}` in the header {h:?}")))
                }
            }
        };
        let user = find("user", &self.fmt.user)?;
        let item = find("item", &self.fmt.item)?;
        let rating = self.fmt.rating.as_ref().map(|c| find("rating", c)).transpose()?;
        let timestamp = self.fmt.timestamp.as_ref().map(|c| find("timestamp", c)).transpose()?;
        let max = [Some(user), Some(item), rating, timestamp].into_iter().flatten().max().unwrap_or(0);
        Ok(Cols { user, item, rating, timestamp, max })
    }

    pub(super) fn field<'f>(
        &self,
        line: u64,
        n_fields: usize,
        get: &impl Fn(usize) -> Option<&'f [u8]>,
        col: usize,
        name: &str,
    ) -> Result<&'f [u8], DataError> {
        let max = self.cols.as_ref().map_or(col, |c| c.max);
        match get(col) {
            Some(s) if !s.is_empty() => Ok(s),
            Some(_) => Err(DataError::parse(self.source, line, name, format!("column {col} is empty; expected a value"))),
            None => Err(DataError::parse(
                self.source,
                line,
                name,
                format!(
                    "missing: the line has {n_fields} field(s) separated by {:?}, expected at least {} \
                     ({name} in column {col})",
                    self.fmt.sep,
                    max.saturating_add(1)
                ),
            )),
        }
    }

    pub(super) fn line<'f>(&mut self, line: u64, n_fields: usize, get: impl Fn(usize) -> Option<&'f [u8]>) -> Result<(), DataError> {
        if self.cols.is_none() {
            if self.fmt.header {
                let names: Vec<&str> = (0..n_fields).map(|c| get(c).map_or(Ok(""), |b| utf8(self.source, line, "header", b))).collect::<Result<_, _>>()?;
                self.cols = Some(self.resolve(line, Some(&names))?);
                return Ok(());
            }
            self.cols = Some(self.resolve(line, None)?);
        }
        let c = self.cols.as_ref().expect("resolved above");
        let (cu, ci, cr, ct) = (c.user, c.item, c.rating, c.timestamp);
        let user = self.field(line, n_fields, &get, cu, "user")?;
        let item = self.field(line, n_fields, &get, ci, "item")?;
        let rating = match cr {
            None => 1.0,
            Some(col) => {
                let raw = self.field(line, n_fields, &get, col, "rating")?;
                let text = utf8(self.source, line, "rating", raw)?;
                let v = match text.parse::<f32>() {
                    Ok(v) if v.is_finite() => v,
                    _ => {
                        return Err(DataError::parse(self.source, line, "rating", format!("expected a finite number, found {text:?}")));
                    }
                };
                if let Some((lo, hi)) = self.opts.scale
                    && (v < lo || v > hi)
                {
                    return Err(DataError::parse(self.source, line, "rating", format!("{v} is outside the declared rating scale [{lo}, {hi}]")));
                }
                v
            }
        };
        if let Some(col) = ct {
            let raw = self.field(line, n_fields, &get, col, "timestamp")?;
            let text = utf8(self.source, line, "timestamp", raw)?;
            let t = text
                .parse::<i64>()
                .map_err(|_| DataError::parse(self.source, line, "timestamp", format!("expected an integer (seconds since 1970), found {text:?}")))?;
            self.timestamps.push(t);
        }
        let u = if self.last_user.0 == user {
            self.last_user.1
        } else {
            let idx = self.users.get_or_insert(utf8(self.source, line, "user", user)?);
            self.last_user.0.clear();
            self.last_user.0.extend_from_slice(user);
            self.last_user.1 = idx;
            idx
        };
        let i = self.items.get_or_insert(utf8(self.source, line, "item", item)?);
        self.user_idx.push(u);
        self.item_idx.push(i);
        self.values.push(rating);
        self.lines.push(line);
        Ok(())
    }

    pub(super) fn finish(mut self) -> Result<Dataset, DataError> {
        if self.values.is_empty() {
            return Err(DataError::Empty { source_name: self.source.to_string() });
        }
        self.resolve_duplicates()?;
        let scale = match self.opts.scale {
            Some(s) => s,
            None => self.values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v))),
        };
        let (n_users, n_items) = (self.users.len(), self.items.len());
        let timestamps = self.fmt.timestamp.as_ref().map(|_| self.timestamps);
        let interactions = Interactions::from_columns(self.user_idx, self.item_idx, self.values, timestamps, n_users, n_items)?;
        Ok(Dataset {
            name: self.source.to_string(),
            interactions,
            users: self.users,
            items: self.items,
            item_titles: Vec::new(),
            scale,
            item_features: None,
            user_features: None,
        })
    }

    /// Applies the duplicate policy in place. Kept ratings stay at the position of the pair's
    /// first line.
    pub(super) fn resolve_duplicates(&mut self) -> Result<(), DataError> {
        let (us, is) = (&self.user_idx, &self.item_idx);
        let mut order: Vec<u32> = (0..us.len() as u32).collect();
        // Stable sort by pair keeps each pair's lines in file order.
        order.sort_by_key(|&k| (us[k as usize], is[k as usize]));
        let same = |a: u32, b: u32| us[a as usize] == us[b as usize] && is[a as usize] == is[b as usize];
        if !order.windows(2).any(|w| same(w[0], w[1])) {
            return Ok(());
        }
        let mut keep = vec![true; us.len()];
        let mut first_err: Option<(u32, u32)> = None;
        let mut g = 0;
        while g < order.len() {
            let mut h = g + 1;
            while h < order.len() && same(order[g], order[h]) {
                h += 1;
            }
            if h - g > 1 {
                let group: Vec<usize> = order[g..h].iter().map(|&k| k as usize).collect();
                let head = group[0];
                match self.opts.duplicates {
                    DuplicatePolicy::Error => {
                        let cand = (order[g], order[g + 1]);
                        if first_err.is_none_or(|(_, b)| self.lines[cand.1 as usize] < self.lines[b as usize]) {
                            first_err = Some(cand);
                        }
                    }
                    DuplicatePolicy::First => {}
                    DuplicatePolicy::Last => {
                        let last = group[group.len() - 1];
                        self.values[head] = self.values[last];
                        if !self.timestamps.is_empty() {
                            self.timestamps[head] = self.timestamps[last];
                        }
                    }
                    DuplicatePolicy::Mean => {
                        let sum: f64 = group.iter().map(|&k| f64::from(self.values[k])).sum();
                        self.values[head] = (sum / group.len() as f64) as f32;
                        if !self.timestamps.is_empty() {
                            self.timestamps[head] = group.iter().map(|&k| self.timestamps[k]).max().unwrap_or_default();
                        }
                    }
                }
                for &k in &group[1..] {
                    keep[k] = false;
                }
            }
            g = h;
        }
        if let Some((a, b)) = first_err {
            let (a, b) = (a as usize, b as usize);
            return Err(DataError::Duplicate {
                source_name: self.source.to_string(),
                user: self.users.raw(self.user_idx[a]).unwrap_or_default().to_string(),
                item: self.items.raw(self.item_idx[a]).unwrap_or_default().to_string(),
                first_line: self.lines[a],
                second_line: self.lines[b],
            });
        }
        retain_mask(&mut self.user_idx, &keep);
        retain_mask(&mut self.item_idx, &keep);
        retain_mask(&mut self.values, &keep);
        retain_mask(&mut self.lines, &keep);
        if !self.timestamps.is_empty() {
            retain_mask(&mut self.timestamps, &keep);
        }
        Ok(())
    }
}
