//! How Jaeger finds a span's parent: Thrift spans name it in `parentSpanId`, protobuf spans
//! only among their references. Both decoders settle it here the same way.

use crate::traces::model::{RefType, SpanId, SpanRef, TraceId};

/// The span's parent: `parent` when non-zero, else the first `CHILD_OF` reference within the
/// same trace (what Jaeger's `Span.ParentSpanID` reads). The reference naming the parent is
/// taken out of `references`, because the model writes it back first.
pub fn take_parent(trace_id: TraceId, parent: SpanId, references: &mut Vec<SpanRef>) -> SpanId {
    let names_parent = |r: &SpanRef| {
        r.ref_type == RefType::ChildOf
            && r.trace_id == trace_id
            && (parent == 0 || r.span_id == parent)
    };
    match references.iter().position(names_parent) {
        Some(i) => references.remove(i).span_id,
        None => parent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child_of(trace_id: TraceId, span_id: SpanId) -> SpanRef {
        SpanRef {
            ref_type: RefType::ChildOf,
            trace_id,
            span_id,
        }
    }

    #[test]
    fn the_parent_comes_from_the_field_or_the_first_same_trace_child_of() {
        let mut refs = vec![child_of(1, 5), child_of(9, 6)];
        assert_eq!(take_parent(1, 5, &mut refs), 5);
        assert_eq!(
            refs,
            vec![child_of(9, 6)],
            "the duplicate reference is gone"
        );

        let mut refs = vec![child_of(9, 6), child_of(1, 7), child_of(1, 8)];
        assert_eq!(take_parent(1, 0, &mut refs), 7);
        assert_eq!(refs, vec![child_of(9, 6), child_of(1, 8)]);

        let mut refs = vec![child_of(9, 6)];
        assert_eq!(
            take_parent(1, 0, &mut refs),
            0,
            "another trace's span is no parent"
        );
        assert_eq!(refs.len(), 1);
    }
}
