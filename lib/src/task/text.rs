//! Rules for the text people see as a task's identity: titles and tags. What
//! cannot be seen must not change what a tag is, or hide what a title says.
//!
//! - Invisible characters (zero-width spaces, word joiners, byte-order marks,
//!   invisible operators) and bidirectional controls, which reorder what is
//!   displayed, are refused in titles and tags. Titles keep the zero-width
//!   joiner and non-joiner, which emoji sequences and Persian or Indic text
//!   need; tags refuse those too, as a tag must be typed to be found.
//! - Tags are compared in Unicode normalization form NFKC, lower-cased, so a
//!   full-width or ligature spelling is the same tag; and a tag that mixes
//!   Latin, Cyrillic and Greek letters is refused, since such a tag is almost
//!   always a look-alike of another ("һоmе" written with Cyrillic letters).

use unicode_normalization::UnicodeNormalization as _;

/// Characters that change what is displayed without being seen.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'                      // soft hyphen
        | '\u{061C}'                    // Arabic letter mark
        | '\u{180E}'                    // Mongolian vowel separator
        | '\u{200B}'                    // zero-width space
        | '\u{200E}' | '\u{200F}'       // left-to-right and right-to-left marks
        | '\u{202A}'..='\u{202E}'       // bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}'       // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}'       // bidi isolates
        | '\u{FEFF}'                    // zero-width no-break space (BOM)
    )
}

/// The zero-width joiner and non-joiner: needed in titles, not in tags.
fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

/// Why `title` (already trimmed) is refused, if it is.
pub(crate) fn title_problem(title: &str) -> Option<&'static str> {
    if title.chars().any(char::is_control) {
        return Some("must not contain control characters");
    }
    if title.chars().any(is_invisible) {
        return Some("must not contain invisible or bidirectional control characters");
    }
    None
}

/// The alphabets whose letters look alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alphabet {
    Latin,
    Greek,
    Cyrillic,
}

fn alphabet(c: char) -> Option<Alphabet> {
    match c {
        'a'..='z' | 'A'..='Z' | '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}' => Some(Alphabet::Latin),
        '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}' => Some(Alphabet::Greek),
        '\u{0400}'..='\u{052F}'
        | '\u{1C80}'..='\u{1C8F}'
        | '\u{2DE0}'..='\u{2DFF}'
        | '\u{A640}'..='\u{A69F}' => Some(Alphabet::Cyrillic),
        _ => None,
    }
}

/// One tag as stored and compared: NFKC, trimmed, lower-cased; or why it is refused.
pub(super) fn normalize_tag(tag: &str, max_chars: usize) -> Result<String, String> {
    let tag: String = tag.nfkc().collect::<String>().trim().to_lowercase();
    let chars = tag.chars().count();
    if chars == 0 || chars > max_chars {
        return Err(format!("each tag must be 1 to {max_chars} characters after trimming"));
    }
    if tag.chars().any(|c| c.is_control() || c == ',') {
        return Err("tags must not contain commas or control characters".into());
    }
    if tag.chars().any(|c| is_invisible(c) || is_joiner(c)) {
        return Err("tags must not contain invisible or bidirectional control characters".into());
    }
    let mut alphabets = tag.chars().filter_map(alphabet);
    if let Some(first) = alphabets.next()
        && alphabets.any(|other| other != first)
    {
        return Err(format!("the tag {tag:?} mixes Latin, Greek or Cyrillic letters, which look alike"));
    }
    Ok(tag)
}

/// Longest user id accepted, in bytes (a JWT `sub` is far shorter in practice).
pub const USER_ID_MAX_BYTES: usize = 255;

/// Why `id` cannot be a user id (a JWT `sub`, a member's, an assignee's):
/// empty, too long, or with control, invisible or bidirectional control
/// characters or surrounding white space. A user id is shown to the members
/// of a shared list, so it follows the rules of what people see, as tags do.
pub fn user_id_problem(id: &str) -> Option<&'static str> {
    if id.is_empty() || id.len() > USER_ID_MAX_BYTES {
        Some("must be 1 to 255 bytes")
    } else if id.chars().any(char::is_control) || id.trim() != id {
        Some("must not contain control characters or surrounding spaces")
    } else if id.chars().any(|c| is_invisible(c) || is_joiner(c)) {
        Some("must not contain invisible or bidirectional control characters")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alike_spellings_of_a_tag_are_one_tag_or_refused() {
        assert_eq!(normalize_tag("  Home ", 40).as_deref(), Ok("home"));
        assert_eq!(normalize_tag("ＨＯＭＥ", 40).as_deref(), Ok("home"), "full-width letters");
        assert_eq!(normalize_tag("ﬁnance", 40).as_deref(), Ok("finance"), "a ligature");
        assert!(normalize_tag("ho\u{200B}me", 40).is_err(), "a zero-width space");
        assert!(normalize_tag("ho\u{200D}me", 40).is_err(), "a zero-width joiner");
        assert!(normalize_tag("\u{202E}emoh", 40).is_err(), "a right-to-left override");
        for hidden in ["\u{202E}bob", "bo\u{200B}b", "b\u{2066}ob", "\u{FEFF}bob", "bo\u{200D}b"] {
            assert!(user_id_problem(hidden).is_some(), "{hidden:?} is a user id");
        }
        assert_eq!(user_id_problem("bob@example.com"), None);
        assert!(normalize_tag("\u{04BB}\u{043E}m\u{0435}", 40).is_err(), "Cyrillic look-alikes of home");
        assert!(normalize_tag("\u{0441}at", 40).is_err(), "a Cyrillic c in cat");
    }

    #[test]
    fn tags_in_one_script_of_any_kind_are_kept() {
        for tag in ["дом", "σπίτι", "家", "zuhause-2026", "café", "🏠"] {
            assert_eq!(normalize_tag(tag, 40).as_deref(), Ok(tag), "{tag}");
        }
    }

    #[test]
    fn titles_refuse_what_hides_or_reorders_text_but_keep_joiners() {
        assert_eq!(title_problem("Pay rent"), None);
        assert_eq!(title_problem("Call 👨\u{200D}👩\u{200D}👧 tonight"), None, "an emoji ZWJ sequence");
        assert_eq!(title_problem("می\u{200C}خواهم"), None, "a Persian zero-width non-joiner");
        for bad in ["a\u{200B}b", "\u{202E}txt.exe", "x\u{2066}y\u{2069}", "\u{FEFF}title", "a\u{0000}b"] {
            assert!(title_problem(bad).is_some(), "{bad:?}");
        }
    }
}
