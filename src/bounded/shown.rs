//! How a user's text (a path, a host name, an endpoint string, an
//! environment value) and a user's list (the attempts of a connect) are
//! shown in messages: whole when short, cut when long, so that a message
//! about a 1 MiB path or 5,000 addresses stays a few hundred bytes.
//!
//! Every `Display` that echoes input goes through [`Cut`] or [`Quoted`];
//! the rule is written here once.

use std::fmt::{self, Write};

/// How many characters of a user's text a message shows before cutting it.
///
/// No valid input is ever cut: a DNS name has at most 253 bytes, a Unix
/// socket path at most 107 (the size of `sun_path`), an endpoint string a
/// few more than either. Only text that is wrong already, and maybe huge,
/// is cut.
pub(crate) const LIMIT: usize = 256;

/// What `T` displays, cut after [`LIMIT`] characters (or another limit)
/// with an ellipsis and the length of the whole text in bytes:
/// `/tmp/aaaa…(1048576 bytes)`.
pub(crate) struct Cut<T> {
    text: T,
    limit: usize,
}

impl<T: fmt::Display> Cut<T> {
    /// `text` cut after [`LIMIT`] characters.
    pub(crate) fn new(text: T) -> Cut<T> {
        Cut { text, limit: LIMIT }
    }
}

impl<T: fmt::Display> fmt::Display for Cut<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(whole) = write_cut(f, self.limit, &self.text)? {
            write_length(f, whole)?;
        }
        Ok(())
    }
}

/// A string in double quotes with Rust's escapes (as `{:?}` shows it), cut
/// like [`Cut`] after [`LIMIT`] characters (or another limit), the length
/// (of the string itself, in bytes) after the closing quote:
/// `"xxxx"…(300 bytes)`.
pub(crate) struct Quoted<'a> {
    text: &'a str,
    limit: usize,
}

impl<'a> Quoted<'a> {
    /// `text` quoted, cut after [`LIMIT`] characters.
    pub(crate) fn new(text: &'a str) -> Quoted<'a> {
        Quoted::with_limit(text, LIMIT)
    }

    /// `text` quoted, cut after `limit` characters: for a piece of an
    /// input quoted inside a reason that shows the whole input too.
    pub(crate) fn with_limit(text: &'a str, limit: usize) -> Quoted<'a> {
        Quoted { text, limit }
    }
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        let cut = write_cut(f, self.limit, &self.text.escape_debug())?;
        f.write_char('"')?;
        if cut.is_some() {
            write_length(f, self.text.len())?;
        }
        Ok(())
    }
}

/// The end of a cut text: `…(N bytes)`.
fn write_length(f: &mut fmt::Formatter<'_>, whole: usize) -> fmt::Result {
    write!(f, "…({whole} bytes)")
}

/// Writes what `text` displays, its first `limit` characters only; returns
/// the whole length in bytes when it was cut.
fn write_cut(
    f: &mut fmt::Formatter<'_>,
    limit: usize,
    text: &dyn fmt::Display,
) -> Result<Option<usize>, fmt::Error> {
    let mut out = Limited {
        out: f,
        left: limit,
        whole: 0,
        cut: false,
    };
    write!(out, "{text}")?;
    Ok(out.cut.then_some(out.whole))
}

/// A writer that passes on the first `left` characters and counts the rest.
struct Limited<'a, 'f> {
    out: &'a mut fmt::Formatter<'f>,
    left: usize,
    whole: usize,
    cut: bool,
}

impl Write for Limited<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.whole += s.len();
        if self.cut || s.is_empty() {
            return Ok(());
        }
        match s.char_indices().nth(self.left) {
            None => {
                self.left -= s.chars().count();
                self.out.write_str(s)
            }
            Some((end, _)) => {
                self.cut = true;
                self.out.write_str(&s[..end])
            }
        }
    }
}

/// A count as a person reads it, with a comma every three digits: `4,992`.
pub(crate) struct Count(pub(crate) usize);

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.to_string();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                f.write_char(',')?;
            }
            f.write_char(digit)?;
        }
        Ok(())
    }
}

/// How many addresses, as a sentence says it: `1 address`, `all 3
/// addresses`, `all 5,000 addresses` (and `0 addresses`).
pub(crate) struct AllAddresses(pub(crate) usize);

impl fmt::Display for AllAddresses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("0 addresses"),
            1 => f.write_str("1 address"),
            n => write!(f, "all {} addresses", Count(n)),
        }
    }
}

/// How many items of a user's list a message shows: the first
/// `LISTED - TAIL` and the last [`TAIL`], with `... and N more` between.
pub(crate) const LISTED: usize = 8;
/// How many of the last items a cut list still shows: the last one, whose
/// reason ends the message (and, for a connect, gives the error's kind),
/// and one before it.
const TAIL: usize = 2;

/// Shows `items` separated by `; ` (or the separator given), at most
/// [`LISTED`] of them: the first ones, `... and N more`, then the last ones.
pub(crate) struct List<'a, T>(pub(crate) &'a [T], pub(crate) &'static str);

impl<T: fmt::Display> fmt::Display for List<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items = self.0;
        let (head, skipped) = if items.len() > LISTED {
            (LISTED - TAIL, items.len() - LISTED)
        } else {
            (items.len(), 0)
        };
        let separator = self.1;
        for (i, item) in items[..head].iter().enumerate() {
            if i > 0 {
                f.write_str(separator)?;
            }
            item.fmt(f)?;
        }
        if skipped > 0 {
            write!(f, "{separator}... and {} more", Count(skipped))?;
            for item in &items[items.len() - TAIL..] {
                write!(f, "{separator}{item}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_counts_read_as_a_sentence() {
        assert_eq!(AllAddresses(1).to_string(), "1 address");
        assert_eq!(AllAddresses(3).to_string(), "all 3 addresses");
        assert_eq!(AllAddresses(5000).to_string(), "all 5,000 addresses");
        assert_eq!(AllAddresses(0).to_string(), "0 addresses");
    }

    #[test]
    fn short_text_is_shown_whole_and_long_text_is_cut_with_its_length() {
        assert_eq!(Cut::new("/tmp/a.sock").to_string(), "/tmp/a.sock");
        let exact = "x".repeat(LIMIT);
        assert_eq!(Cut::new(&exact).to_string(), exact);
        let long = "y".repeat(1 << 20);
        let shown = Cut::new(&long).to_string();
        assert_eq!(
            shown,
            format!("{}…(1048576 bytes)", "y".repeat(LIMIT)),
            "cut after {LIMIT} characters"
        );
        // Characters, not bytes: a cut never splits one.
        let wide = "é".repeat(LIMIT + 1);
        assert_eq!(
            Cut::new(&wide).to_string(),
            format!("{}…({} bytes)", "é".repeat(LIMIT), wide.len())
        );
        // Text written in many pieces is cut the same way.
        let pieces = format_args!("{}{}{}", "ab", "c".repeat(LIMIT), "d").to_string();
        assert_eq!(
            Cut::new(format_args!("{}{}{}", "ab", "c".repeat(LIMIT), "d")).to_string(),
            format!("{}…({} bytes)", &pieces[..LIMIT], pieces.len())
        );
    }

    #[test]
    fn quoted_text_keeps_its_quotes_and_escapes() {
        assert_eq!(Quoted::new("a\"b\n").to_string(), r#""a\"b\n""#);
        assert_eq!(
            Quoted::with_limit("abcdef", 3).to_string(),
            "\"abc\"…(6 bytes)"
        );
        assert_eq!(Quoted::with_limit("abc", 3).to_string(), "\"abc\"");
    }

    #[test]
    fn counts_read_like_a_person_writes_them() {
        for (n, text) in [
            (0, "0"),
            (7, "7"),
            (999, "999"),
            (1000, "1,000"),
            (4992, "4,992"),
            (1_048_576, "1,048,576"),
        ] {
            assert_eq!(Count(n).to_string(), text);
        }
    }

    #[test]
    fn a_long_list_shows_its_first_and_last_items() {
        let short: Vec<usize> = (1..=LISTED).collect();
        assert_eq!(List(&short, "; ").to_string(), "1; 2; 3; 4; 5; 6; 7; 8");
        let long: Vec<usize> = (1..=5000).collect();
        assert_eq!(
            List(&long, "; ").to_string(),
            "1; 2; 3; 4; 5; 6; ... and 4,992 more; 4999; 5000"
        );
        let nine: Vec<usize> = (1..=9).collect();
        assert_eq!(
            List(&nine, ", ").to_string(),
            "1, 2, 3, 4, 5, 6, ... and 1 more, 8, 9"
        );
        assert_eq!(List::<usize>(&[], "; ").to_string(), "");
    }
}
