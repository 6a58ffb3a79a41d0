//! sockwright
#![forbid(unsafe_code)]
