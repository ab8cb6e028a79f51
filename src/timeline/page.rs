//! The HTML shell: inline CSS and JS, the trace data embedded as JSON.

use serde_json::Value;

const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

pub(super) fn html(title: &str, data: &Value) -> String {
    let title = escape_html(title);
    let data = script_safe_json(data);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · hooksim timeline</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
         <header><h1>{title}</h1><p id=\"summary\"></p><ul id=\"failures\"></ul><p id=\"cut\"></p>\
         <div id=\"legend\"></div></header>\n\
         <main><div id=\"lanes\"></div><div id=\"scroll\"><svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\"></svg></div></main>\n\
         <aside id=\"detail\"><p class=\"hint\">Hover or click an arrow or a mark to see it here; a click pins it.</p></aside>\n\
         <script type=\"application/json\" id=\"trace-data\">{data}</script>\n<script>\n{JS}</script>\n</body>\n</html>\n"
    )
}

/// `& < > " '` as entities.
fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON that cannot end its `<script>` element nor open a comment in it: `<`, `>` and `&` only
/// occur inside JSON strings, where `\u00XX` means the same character. U+2028/9 too, for old
/// parsers.
fn script_safe_json(data: &Value) -> String {
    let json = data.to_string();
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_in_the_data_can_close_the_script_or_open_markup() {
        let evil = "</script><script>alert(1)</script><!-- & \u{2028}";
        let data = serde_json::json!({ "body": evil });
        let page = html("<b>t</b>", &data);
        assert_eq!(page.matches("</script>").count(), 2, "only the page's own two scripts end");
        assert!(!page.contains("<b>t</b>"));
        let json = script_safe_json(&data);
        let back: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["body"], evil);
    }
}
