//! The activation e-mail: its domain (template, outbox, sender) is the service's; the
//! `service mail` command that sets a service's e-mail settings is the server's.

pub mod cli;

pub use softtoken_service::mail::*;
