//! A change and what it tells: [`change`] (`Change`, one unit of work: the change's statements, its
//! mail and its record, committed together, then the hooks), [`mail`] (letters from templates,
//! through the outbox table, to the SMTP server), [`activity`] (each account's record of security
//! events) and [`hooks`] (what the application built on Latchkey hears).

pub mod activity;
pub mod change;
pub mod hooks;
pub mod mail;
