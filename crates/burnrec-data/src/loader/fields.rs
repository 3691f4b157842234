//! Splitting a line into fields: separators, quotes (RFC 4180 doubling), an unbalanced
//! opening quote.

/// Whether a field of `text` opens a double quote (first non-blank character of the field) that
/// the line never closes. A quote inside an unquoted field (`12" vinyl`) is an ordinary
/// character, as for the csv crate; `""` inside a quoted field is an escaped quote.
pub(super) fn open_quote(text: &[u8], sep: u8) -> bool {
    let mut k = 0;
    while k < text.len() {
        // At the start of a field.
        while k < text.len() && (text[k] == b' ' || text[k] == b'\t') && text[k] != sep {
            k += 1;
        }
        if k < text.len() && text[k] == b'"' {
            k += 1;
            loop {
                match text[k..].iter().position(|&c| c == b'"') {
                    None => return true,
                    Some(p) if text.get(k + p + 1) == Some(&b'"') => k += p + 2,
                    Some(p) => {
                        k += p + 1;
                        break;
                    }
                }
            }
        }
        // To the next field.
        match text[k..].iter().position(|&c| c == sep) {
            Some(p) => k += p + 1,
            None => return false,
        }
    }
    false
}

/// Splits `text` at every occurrence of `sep` into `(start, end)` byte ranges.
pub(super) fn split_fields(text: &[u8], sep: &[u8], fields: &mut Vec<(usize, usize)>) {
    fields.clear();
    let mut start = 0;
    if let [s] = sep {
        for (k, &c) in text.iter().enumerate() {
            if c == *s {
                fields.push((start, k));
                start = k + 1;
            }
        }
    } else {
        let mut k = 0;
        while k + sep.len() <= text.len() {
            if &text[k..k + sep.len()] == sep {
                fields.push((start, k));
                k += sep.len();
                start = k;
            } else {
                k += 1;
            }
        }
    }
    fields.push((start, text.len()));
}

/// Parses one line with CSV quoting; writes the unquoted fields back to back into `out` and
/// their ranges into `fields`.
pub(super) fn unquote_line(text: &[u8], sep: u8, out: &mut Vec<u8>, fields: &mut Vec<(usize, usize)>) -> Result<(), String> {
    let mut rdr = csv::ReaderBuilder::new().delimiter(sep).has_headers(false).flexible(true).from_reader(text);
    let mut rec = csv::ByteRecord::new();
    rdr.read_byte_record(&mut rec).map_err(|e| e.to_string())?;
    out.clear();
    fields.clear();
    for f in &rec {
        fields.push((out.len(), out.len() + f.len()));
        out.extend_from_slice(f);
    }
    Ok(())
}
