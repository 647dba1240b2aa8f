//! Tables the way kubectl prints them: upper-case headers, columns padded to their widest cell
//! and separated by three spaces, no trailing spaces.

/// Renders `rows` under `header` (omitted with `no_headers`).
pub fn render(header: &[&str], rows: &[Vec<String>], no_headers: bool) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut write_row = |cells: Vec<&str>| {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < cells.len() {
                line.push_str(&" ".repeat(widths[i] - cell.chars().count() + 3));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    };
    if !no_headers {
        write_row(header.to_vec());
    }
    for row in rows {
        write_row(row.iter().map(String::as_str).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_align() {
        let rows = vec![
            vec!["connection/pg".to_string(), "postgres".to_string()],
            vec!["connection/a".into(), "s3".into()],
        ];
        assert_eq!(
            super::render(&["NAME", "TYPE"], &rows, false),
            "NAME            TYPE\nconnection/pg   postgres\nconnection/a    s3\n"
        );
        assert_eq!(super::render(&["NAME"], &[vec!["x".into()]], true), "x\n");
    }
}
