//! Code shared by the tests and benches; not part of the library.
pub mod storm;
