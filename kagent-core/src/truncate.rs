//! Cutting oversized tool output before it reaches the model.

/// Cuts `text` to at most about `max_bytes`, keeping the head and the tail (the tail of a log is
/// usually where the error is) and putting a note in the middle that tells the model how much
/// was cut. Cuts fall on character boundaries. Returns the text and whether it was cut.
pub fn truncate_middle(text: &str, max_bytes: usize) -> (String, bool) {
    if text.len() <= max_bytes {
        return (text.to_owned(), false);
    }
    let head_budget = max_bytes / 2;
    let tail_budget = max_bytes.saturating_sub(head_budget);
    let head_end = floor_char_boundary(text, head_budget);
    let tail_start = ceil_char_boundary(text, text.len().saturating_sub(tail_budget));
    let head = text.get(..head_end).unwrap_or_default();
    let tail = text.get(tail_start..).unwrap_or_default();
    let cut = tail_start.saturating_sub(head_end);
    let cut_lines = text
        .get(head_end..tail_start)
        .map(|m| m.matches('\n').count())
        .unwrap_or(0);
    let note = format!(
        "\n\n[... {cut} bytes ({cut_lines} lines) of tool output cut here: the output was {} bytes and the limit is {max_bytes}. Ask for less, e.g. with a filter, a selector or fewer lines ...]\n\n",
        text.len()
    );
    let mut out = String::with_capacity(head.len() + note.len() + tail.len());
    out.push_str(head);
    out.push_str(&note);
    out.push_str(tail);
    (out, true)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i.min(s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_untouched() {
        assert_eq!(truncate_middle("abc", 10), ("abc".to_owned(), false));
    }

    #[test]
    fn keeps_head_and_tail_with_a_note() {
        let text: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        let (out, cut) = truncate_middle(&text, 200);
        assert!(cut);
        assert!(out.starts_with("line 0\n"));
        assert!(out.ends_with("line 999\n"));
        assert!(out.contains("bytes ("), "{out}");
        assert!(out.len() < 200 + 300);
    }

    #[test]
    fn never_splits_a_character() {
        let text = "é".repeat(1000);
        for max in [1, 2, 3, 7, 100, 1999] {
            let (out, cut) = truncate_middle(&text, max);
            assert!(cut);
            assert!(out.starts_with('é') || out.starts_with('\n'));
        }
    }
}
