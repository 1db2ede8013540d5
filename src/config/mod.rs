//! The Logstash pipeline language: source files, the grammar (nom) producing an [`ast`],
//! `${VAR}` substitution, typed plugin settings, compilation into a plan, and the errors a person can act on.

pub mod ast;
pub mod compile;
pub mod env;
pub mod error;
pub mod grammar;
pub mod load;
pub mod outline;
pub mod settings;
pub mod source;
