//! How an operation's arguments travel to the writer thread: owned for the trip (the thread
//! outlives no borrow), lent back to the operation as the types it takes.

use softtoken_protocol::{ServiceId, UserId};

use crate::console::{AuditFilter, NewOperator, SessionLimits, SessionStage};
use crate::model::{
    ActivationSession, Binding, Judgement, MailId, MailOutcome, NewAuditEvent, NewEnrollment,
    RefusalDetails, Resealed, RevokeCooldown, SealedKind, Service, ServiceMail, SessionId, StepUse,
    Token, TokenState, Transaction,
};
use crate::policy::Policy;
use crate::serial::TokenSerial;

/// An argument of a store operation, carried to the writer thread.
pub(super) trait Carry<'a>: Sized {
    /// What travels.
    type Owned: Send + 'static;
    /// Takes it for the trip.
    fn carry(self) -> Self::Owned;
    /// Lends it back, as the operation takes it.
    fn lend(owned: &'a mut Self::Owned) -> Self;
}

/// Borrowed arguments travel as clones.
macro_rules! by_ref {
    ($($t:ty),*) => {$(
        impl<'a> Carry<'a> for &'a $t {
            type Owned = $t;
            fn carry(self) -> $t {
                self.clone()
            }
            fn lend(owned: &'a mut $t) -> Self {
                owned
            }
        }
        impl<'a> Carry<'a> for Option<&'a $t> {
            type Owned = Option<$t>;
            fn carry(self) -> Option<$t> {
                self.cloned()
            }
            fn lend(owned: &'a mut Option<$t>) -> Self {
                owned.as_ref()
            }
        }
    )*};
}

by_ref!(
    Service,
    Judgement,
    ServiceId,
    UserId,
    Policy,
    NewAuditEvent,
    NewEnrollment,
    ActivationSession,
    SessionId,
    Token,
    TokenSerial,
    StepUse,
    Binding,
    AuditFilter,
    ServiceMail,
    MailId,
    MailOutcome,
    Transaction,
    RefusalDetails,
    [u8; 32]
);

/// Plain values travel as they are.
macro_rules! by_value {
    ($($t:ty),*) => {$(
        impl<'a> Carry<'a> for $t {
            type Owned = $t;
            fn carry(self) -> $t {
                self
            }
            fn lend(owned: &'a mut $t) -> Self {
                *owned
            }
        }
    )*};
}

by_value!(
    i64,
    u32,
    bool,
    Option<i64>,
    TokenState,
    RevokeCooldown,
    SessionStage,
    SessionLimits,
    SealedKind
);

/// Slices travel as vectors.
macro_rules! by_slice {
    ($($t:ty),*) => {$(
        impl<'a> Carry<'a> for &'a [$t] {
            type Owned = Vec<$t>;
            fn carry(self) -> Vec<$t> {
                self.to_vec()
            }
            fn lend(owned: &'a mut Vec<$t>) -> Self {
                owned
            }
        }
    )*};
}

by_slice!(u8, Token, Resealed);

impl<'a> Carry<'a> for &'a str {
    type Owned = String;
    fn carry(self) -> String {
        self.to_owned()
    }
    fn lend(owned: &'a mut String) -> Self {
        owned
    }
}

impl<'a> Carry<'a> for Option<&'a str> {
    type Owned = Option<String>;
    fn carry(self) -> Option<String> {
        self.map(str::to_owned)
    }
    fn lend(owned: &'a mut Option<String>) -> Self {
        owned.as_deref()
    }
}

impl<'a> Carry<'a> for &'a NewOperator {
    type Owned = NewOperator;
    fn carry(self) -> NewOperator {
        NewOperator {
            service_id: self.service_id.clone(),
            name: self.name.clone(),
            role: self.role,
            password_hash: self.password_hash.clone(),
        }
    }
    fn lend(owned: &'a mut NewOperator) -> Self {
        owned
    }
}
