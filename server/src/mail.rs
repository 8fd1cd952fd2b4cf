//! The activation e-mail's command line: its domain (template, outbox, sender) is
//! `softtoken_service::mail`; the `service mail` command that sets a service's e-mail
//! settings is the server's.

pub mod cli;
