//! Reading a `_bulk` answer: what happened to each item, and what we do about it.
//!
//! Elasticsearch answers a bulk request with HTTP 200 even when items failed; the verdict is
//! per item, in request order. Each item is classified as [`Verdict::Taken`] (durably
//! written), [`Verdict::AlreadyPresent`] (a `create` whose document an earlier attempt wrote),
//! [`Verdict::Retry`] (back-pressure or a transient fault: send that item again
//! later) or [`Verdict::Dead`] (ES will never accept it as it is: the dead-letter queue).
//! Requests ask for `filter_path` so the answer carries only statuses and errors.
//!
//! Nearly every answer is `{"errors":false,"items":[…]}`: its item list, which would only say
//! "taken" once per document, is checked as JSON but not deserialised.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::encoder::Action;

/// The query string that trims a bulk answer to what [`parse`] reads.
pub const FILTER_PATH: &str = "filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason,items.*.error.caused_by.reason";

/// Why an item failed, as Elasticsearch said it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemError {
    pub status: u16,
    pub kind: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Taken,
    /// 409 on `create`: the document is there, written by an earlier attempt of this event
    /// (a resend after a lost answer, or a sender resending after a failover). Delivered.
    AlreadyPresent,
    Retry(ItemError),
    Dead(ItemError),
}

#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    #[error("unreadable bulk response: {0}")]
    Json(#[from] serde_json::Error),
    #[error("bulk response has {got} items for {sent} sent")]
    Count { got: usize, sent: usize },
}

#[derive(Deserialize)]
struct Bulk<'a> {
    errors: bool,
    /// Read into [`Wrapped`]s only when `errors` is true.
    #[serde(borrow)]
    items: Option<&'a RawValue>,
}

/// Each item is an object with one key, the action it answers.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Wrapped {
    Index(Item),
    Create(Item),
    Update(Item),
    Delete(Item),
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    status: u16,
    error: Option<RawError>,
}

#[derive(Deserialize)]
struct RawError {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    reason: Option<String>,
    caused_by: Option<CausedBy>,
}

#[derive(Deserialize)]
struct CausedBy {
    reason: Option<String>,
}

/// Classifies every item of a bulk answer to a request of `sent` items with `action`.
pub fn parse(body: &[u8], action: Action, sent: usize) -> Result<Vec<Verdict>, ResponseError> {
    let bulk: Bulk = serde_json::from_slice(body)?;
    if !bulk.errors {
        // Nothing failed: no need to trust (or even have) the item list.
        return Ok(vec![Verdict::Taken; sent]);
    }
    let items: Vec<Wrapped> = match bulk.items {
        Some(items) => serde_json::from_str(items.get())?,
        None => Vec::new(),
    };
    if items.len() != sent {
        return Err(ResponseError::Count {
            got: items.len(),
            sent,
        });
    }
    Ok(items
        .into_iter()
        .map(|w| {
            let item = match w {
                Wrapped::Index(i)
                | Wrapped::Create(i)
                | Wrapped::Update(i)
                | Wrapped::Delete(i) => i,
            };
            classify(action, item)
        })
        .collect())
}

fn classify(action: Action, item: Item) -> Verdict {
    let status = item.status;
    if (200..300).contains(&status) {
        return Verdict::Taken;
    }
    let error = match item.error {
        Some(e) => ItemError {
            status,
            reason: match (e.reason, e.caused_by.and_then(|c| c.reason)) {
                (Some(r), Some(c)) => format!("{r}: {c}"),
                (Some(r), None) => r,
                (None, Some(c)) => c,
                (None, None) => String::new(),
            },
            kind: e.kind,
        },
        None => ItemError {
            status,
            ..ItemError::default()
        },
    };
    verdict(action, error)
}

/// The policy. A `create` that meets an existing document (409) means an earlier attempt of
/// ours got through: with deterministic ids that is the proof of delivery, not an error.
/// Back-pressure (429, `es_rejected_execution_exception`), unavailable shards and server
/// faults (5xx) pass; everything else (mapping conflicts 400, missing index 404, blocks 403,
/// version conflicts on index/update) will fail the same way every time.
pub fn verdict(action: Action, error: ItemError) -> Verdict {
    let status = error.status;
    if status == 409 && action == Action::Create {
        return Verdict::AlreadyPresent;
    }
    let transient_kind = matches!(
        error.kind.as_str(),
        "es_rejected_execution_exception"
            | "unavailable_shards_exception"
            | "no_shard_available_action_exception"
            | "node_not_connected_exception"
            | "node_closed_exception"
            | "circuit_breaking_exception"
    );
    if status == 429 || status >= 500 || status == 0 || transient_kind {
        Verdict::Retry(error)
    } else {
        Verdict::Dead(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_errors_means_all_taken() {
        let v = parse(br#"{"errors":false}"#, Action::Index, 3).unwrap();
        assert_eq!(v, vec![Verdict::Taken; 3]);
    }

    #[test]
    fn the_usual_answer_is_taken_without_reading_its_items() {
        let body =
            br#"{"errors":false,"items":[{"index":{"status":201}},{"index":{"status":201}}]}"#;
        assert_eq!(
            parse(body, Action::Index, 2).unwrap(),
            vec![Verdict::Taken; 2]
        );
        // The key order does not matter.
        let reordered = br#"{"items":[{"index":{"status":201}}],"errors":false}"#;
        assert_eq!(
            parse(reordered, Action::Index, 1).unwrap(),
            vec![Verdict::Taken]
        );
        // An answer cut short or malformed is an error even when it says `errors: false`.
        for hostile in [
            &br#"{"errors":false"#[..],
            br#"{"errors":falsehood}"#,
            br#"{"errors":false,"items":["#,
            br#"{"errors":false,"items":[}]}"#,
            br#"{"errors":true,"items":[]}"#,
            b"",
        ] {
            assert!(
                parse(hostile, Action::Index, 1).is_err(),
                "{}",
                String::from_utf8_lossy(hostile)
            );
        }
    }

    #[test]
    fn mixed_items_are_classified() {
        let body = br#"{"errors":true,"items":[
            {"create":{"status":201}},
            {"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"exists"}}},
            {"create":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected"}}},
            {"create":{"status":400,"error":{"type":"document_parsing_exception","reason":"[1:2] failed to parse field [n] of type [long]","caused_by":{"reason":"For input string: \"x\""}}}},
            {"create":{"status":503,"error":{"type":"unavailable_shards_exception","reason":"primary shard is not active"}}},
            {"create":{"status":404,"error":{"type":"index_not_found_exception","reason":"no such index"}}},
            {"create":{"status":403,"error":{"type":"cluster_block_exception","reason":"blocked by: [FORBIDDEN/8/index write (api)]"}}}
        ]}"#;
        let v = parse(body, Action::Create, 7).unwrap();
        assert_eq!(v[0], Verdict::Taken);
        assert_eq!(v[1], Verdict::AlreadyPresent);
        assert!(matches!(&v[2], Verdict::Retry(e) if e.status == 429));
        match &v[3] {
            Verdict::Dead(e) => {
                assert_eq!(e.kind, "document_parsing_exception");
                assert!(e.reason.contains("type [long]") && e.reason.contains("For input"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&v[4], Verdict::Retry(_)));
        assert!(matches!(&v[5], Verdict::Dead(e) if e.status == 404));
        assert!(matches!(&v[6], Verdict::Dead(e) if e.status == 403));
    }

    #[test]
    fn a_conflict_on_index_is_dead() {
        let body = br#"{"errors":true,"items":[{"index":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"v"}}}]}"#;
        assert!(matches!(
            &parse(body, Action::Index, 1).unwrap()[0],
            Verdict::Dead(_)
        ));
    }

    #[test]
    fn a_short_item_list_is_an_error() {
        let body = br#"{"errors":true,"items":[{"index":{"status":201}}]}"#;
        assert!(matches!(
            parse(body, Action::Index, 2),
            Err(ResponseError::Count { got: 1, sent: 2 })
        ));
        assert!(parse(b"<html>", Action::Index, 1).is_err());
    }
}
