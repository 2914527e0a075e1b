//! The one locking rule of the fake, in a type: a `Locked<T>` is reached
//! only inside a short synchronous closure, and never while another
//! `Locked` is held by the same thread.
//!
//! A closure cannot `.await`, so no lock is held across a suspension
//! point, and since no two locks are ever held together there is no lock
//! order to get wrong. The second rule is checked on every call (a
//! thread-local flag): a nested `with` panics with the names of both locks,
//! in every build, so the first test that breaks the rule says so.

use std::cell::Cell;
use std::sync::{Mutex, PoisonError};

thread_local! {
    static HELD: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// A value behind a mutex, reachable through [`Locked::with`] only.
#[derive(Debug)]
pub(crate) struct Locked<T> {
    name: &'static str,
    value: Mutex<T>,
}

/// Clears the thread's "holding a lock" flag when the closure ends or unwinds.
struct Release;

impl Drop for Release {
    fn drop(&mut self) {
        HELD.with(|held| held.set(None));
    }
}

impl<T> Locked<T> {
    /// `value` behind a lock called `name` (named in the panic of a nested use).
    pub(crate) fn new(name: &'static str, value: T) -> Self {
        Self {
            name,
            value: Mutex::new(value),
        }
    }

    /// Runs `f` with the value locked, and unlocks before returning.
    ///
    /// # Panics
    ///
    /// If this thread already holds a `Locked` (of any kind): the fake
    /// never holds two locks at once.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        HELD.with(|held| {
            if let Some(other) = held.get() {
                panic!(
                    "lock rule broken: `{}` taken while `{other}` is held",
                    self.name
                );
            }
            held.set(Some(self.name));
        });
        let _release = Release;
        // A panic inside an earlier closure poisons the mutex; the value is
        // still consistent enough for a test double to go on serving.
        let mut value = self.value.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_lock_at_a_time() {
        let a = Locked::new("a", 1);
        let b = Locked::new("b", 2);
        assert_eq!(a.with(|a| *a) + b.with(|b| *b), 3);
        let nested = std::panic::catch_unwind(|| a.with(|_| b.with(|b| *b)));
        let message = nested.unwrap_err();
        let message = message.downcast_ref::<String>().unwrap();
        assert!(message.contains("`b` taken while `a` is held"), "{message}");
        // The flag was released by the unwind: locking works again.
        assert_eq!(b.with(|b| *b), 2);
    }
}
