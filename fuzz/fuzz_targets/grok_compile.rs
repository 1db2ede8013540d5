//! Fuzzes grok compilation and matching: the first line of the input is a pattern (it may
//! use the built-in library), the rest a line to match. Compiling must fail with an error or
//! succeed, never panic or hang; a compiled pattern must match any line in linear time, and
//! its shortcuts (the fast path, the required literals) must agree with the general engine.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice::event::{Event, Text};
use sluice::filters::grok::dialect::translate;
use sluice::filters::grok::expand::expand;
use sluice::filters::grok::matcher::Matcher;
use sluice::filters::grok::{EcsCompatibility, Grok, GrokConfig, PatternLibrary};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (pattern, line) = text.split_once('\n').unwrap_or((text, ""));
    let mut config = GrokConfig::matching("message", &[pattern]);
    config.ecs_compatibility = EcsCompatibility::Disabled;
    if let Ok(grok) = Grok::new(config) {
        grok.filter(&mut Event::from_message(Text::from(line)));
    }
    let library = PatternLibrary::builtin(EcsCompatibility::Disabled);
    let Ok(expanded) = expand(pattern, &library, true) else {
        return;
    };
    let Ok(translated) = translate(&expanded) else {
        return;
    };
    if let Ok(matcher) = Matcher::new(&translated) {
        assert!(matcher.shortcuts_agree(line), "{pattern:?} on {line:?}");
    }
});
