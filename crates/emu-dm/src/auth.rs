//! Debug Module authentication (`authdata`, `dmstatus.authenticated`): off unless the
//! machine is configured with an [`Authenticator`]. Until a debugger authenticates, only
//! `dmstatus`, `authdata` and `dmcontrol.dmactive` respond.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use crate::dm::DebugModule;

/// A challenge-response scheme behind `authdata`.
pub trait Authenticator: Send {
    /// A debugger reads `authdata`: the current challenge.
    fn challenge(&mut self) -> u32;
    /// A debugger writes `authdata`: whether `response` answers the challenge (a wrong answer
    /// should change the challenge, so guessing gains nothing).
    fn respond(&mut self, response: u32) -> bool;
}

/// The built-in scheme: a shared 32-bit secret. The challenge is a fresh random nonce; the
/// answer is [`SharedSecret::answer`]`(nonce, secret)`. Not cryptography, a lock on the
/// door: it keeps tools that do not know the secret out, as the spec intends.
#[derive(Debug)]
pub struct SharedSecret {
    secret: u32,
    nonce: u32,
    seed: RandomState,
    count: u64,
}

impl SharedSecret {
    /// A scheme with `secret`.
    pub fn new(secret: u32) -> SharedSecret {
        let mut s = SharedSecret {
            secret,
            nonce: 0,
            seed: RandomState::new(),
            count: 0,
        };
        s.renew();
        s
    }

    fn renew(&mut self) {
        let mut h = self.seed.build_hasher();
        self.count += 1;
        h.write_u64(self.count);
        self.nonce = h.finish() as u32;
    }

    /// The answer to challenge `nonce` under `secret`.
    pub fn answer(nonce: u32, secret: u32) -> u32 {
        (nonce ^ secret).rotate_left(13).wrapping_mul(0x9e37_79b1) ^ secret
    }
}

impl Authenticator for SharedSecret {
    fn challenge(&mut self) -> u32 {
        self.nonce
    }

    fn respond(&mut self, response: u32) -> bool {
        let ok = response == Self::answer(self.nonce, self.secret);
        self.renew();
        ok
    }
}

impl DebugModule {
    pub(crate) fn auth_required(&self) -> bool {
        self.auth
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    pub(crate) fn auth_read(&self) -> u32 {
        self.auth
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
            .map_or(0, |a| a.challenge())
    }

    pub(crate) fn auth_write(&self, v: u32) -> bool {
        self.auth
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
            .is_none_or(|a| a.respond(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_answer_passes_and_each_try_changes_the_challenge() {
        let mut a = SharedSecret::new(0x1234_5678);
        let c = a.challenge();
        assert!(!a.respond(SharedSecret::answer(c, 0x1111_1111)));
        let c2 = a.challenge();
        assert_ne!(c, c2);
        assert!(
            !a.respond(SharedSecret::answer(c, 0x1234_5678)),
            "stale answer"
        );
        let c3 = a.challenge();
        assert!(a.respond(SharedSecret::answer(c3, 0x1234_5678)));
    }
}
