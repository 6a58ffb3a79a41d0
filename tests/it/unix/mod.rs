//! Unix socket files: modes, paths in the way, stale files, and races on
//! the directory by another user.

mod file_races;
mod files;
mod stale;
