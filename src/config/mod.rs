//! The Logstash pipeline language: source files, the grammar (nom) producing an [`ast`],
//! `${VAR}` substitution, and the errors a person can act on.

pub mod ast;
pub mod env;
pub mod error;
pub mod grammar;
pub mod load;
pub mod source;
