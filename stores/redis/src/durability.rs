//! What the store needs from Redis to remember handled keys, checked:
//! [`RedisSeenKeys::check_durability`] and its [`DurabilityWarning`]s.

use crate::RedisSeenKeys;

/// A Redis setting under which handled keys can be forgotten, so messages
/// Attio delivers again run again; found by
/// [`RedisSeenKeys::check_durability`]. Its text names the setting.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DurabilityWarning {
    /// `appendonly` is not `yes`: a restart loses every key written since
    /// the last RDB snapshot (`save`, here given), or every key when `save`
    /// is empty.
    NoAppendOnly {
        /// The server's `save` setting.
        save: String,
    },
    /// `appendfsync` is not `always`: a crash (of the machine, or of
    /// Redis with `no`) loses the last second or more of writes.
    AppendFsync {
        /// The server's `appendfsync` setting.
        setting: String,
    },
    /// `maxmemory-policy` is not `noeviction`: under memory pressure Redis
    /// drops keys (every key of this store has an expiry, so the
    /// `volatile-*` policies drop them too).
    Eviction {
        /// The server's `maxmemory-policy` setting.
        policy: String,
    },
    /// `CONFIG GET` is refused (disabled or renamed, as managed services
    /// do): nothing could be checked.
    Unchecked {
        /// The server's answer.
        reason: String,
    },
}

impl DurabilityWarning {
    /// The setting concerned: `appendonly`, `appendfsync`,
    /// `maxmemory-policy`, or `CONFIG` when it could not be read.
    pub fn setting(&self) -> &'static str {
        match self {
            DurabilityWarning::NoAppendOnly { .. } => "appendonly",
            DurabilityWarning::AppendFsync { .. } => "appendfsync",
            DurabilityWarning::Eviction { .. } => "maxmemory-policy",
            DurabilityWarning::Unchecked { .. } => "CONFIG",
        }
    }
}

impl std::fmt::Display for DurabilityWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DurabilityWarning::NoAppendOnly { save } if save.is_empty() => write!(
                f,
                "appendonly is no and save is empty: a Redis restart forgets every handled key, and their messages run again; set appendonly yes"
            ),
            DurabilityWarning::NoAppendOnly { save } => write!(
                f,
                "appendonly is no (save {save:?}): a Redis restart forgets the keys handled since the last snapshot, and their messages run again; set appendonly yes"
            ),
            DurabilityWarning::AppendFsync { setting } => write!(
                f,
                "appendfsync is {setting}: a crash can forget the last second or more of handled keys, and their messages run again; set appendfsync always"
            ),
            DurabilityWarning::Eviction { policy } => write!(
                f,
                "maxmemory-policy is {policy}: under memory pressure Redis evicts keys, and their messages run again; set maxmemory-policy noeviction"
            ),
            DurabilityWarning::Unchecked { reason } => write!(
                f,
                "CONFIG GET is refused ({reason}), so persistence and eviction could not be checked: make sure of appendonly yes, appendfsync always and maxmemory-policy noeviction"
            ),
        }
    }
}

/// What the settings read say, in the order of [`DurabilityWarning`].
fn judge(appendonly: &str, appendfsync: &str, save: &str, policy: &str) -> Vec<DurabilityWarning> {
    let mut warnings = Vec::new();
    if !appendonly.eq_ignore_ascii_case("yes") {
        warnings.push(DurabilityWarning::NoAppendOnly {
            save: save.to_owned(),
        });
    } else if !appendfsync.eq_ignore_ascii_case("always") {
        warnings.push(DurabilityWarning::AppendFsync {
            setting: appendfsync.to_owned(),
        });
    }
    if !policy.eq_ignore_ascii_case("noeviction") {
        warnings.push(DurabilityWarning::Eviction {
            policy: policy.to_owned(),
        });
    }
    warnings
}

impl RedisSeenKeys {
    /// Reads the server's `appendonly`, `appendfsync`, `save` and
    /// `maxmemory-policy` and returns what could make it forget handled
    /// keys (empty when nothing), logging each as a `tracing` warning
    /// naming the setting. [`connect`](Self::connect) and
    /// [`RedisSeenKeysBuilder::connect`](crate::RedisSeenKeysBuilder::connect)
    /// run it once.
    ///
    /// A server that refuses `CONFIG` (disabled or renamed) gives
    /// [`DurabilityWarning::Unchecked`], not an error: only a server that
    /// does not answer at all is an `Err`.
    pub async fn check_durability(
        &self,
    ) -> Result<Vec<DurabilityWarning>, attio_webhooks::error::BoxError> {
        let mut connection = self.connection.clone();
        let mut pipe = redis::pipe();
        for setting in ["appendonly", "appendfsync", "save", "maxmemory-policy"] {
            pipe.cmd("CONFIG").arg("GET").arg(setting);
        }
        let read = crate::builder::bounded(
            self.call_timeout,
            pipe.query_async::<Vec<Vec<String>>>(&mut connection),
        )
        .await;
        let warnings = match read {
            Ok(answers) => {
                // Each answer is [name, value], or empty if unknown.
                let value = |i: usize| {
                    answers
                        .get(i)
                        .and_then(|pair| pair.get(1))
                        .map(String::as_str)
                        .unwrap_or_default()
                };
                judge(value(0), value(1), value(2), value(3))
            }
            Err(error) => match error.downcast_ref::<redis::RedisError>() {
                // The server answered, with a refusal: CONFIG is off.
                Some(refused) if refused.kind() != redis::ErrorKind::Io => {
                    vec![DurabilityWarning::Unchecked {
                        reason: refused.to_string(),
                    }]
                }
                _ => return Err(error),
            },
        };
        for warning in &warnings {
            tracing::warn!(setting = warning.setting(), "{warning}");
        }
        Ok(warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_appendonly_always_and_noeviction_pass() {
        assert_eq!(judge("yes", "always", "", "noeviction"), []);
        let settings =
            |w: Vec<DurabilityWarning>| w.iter().map(|w| w.setting()).collect::<Vec<_>>();
        assert_eq!(
            settings(judge("no", "everysec", "", "noeviction")),
            ["appendonly"]
        );
        assert_eq!(
            settings(judge("yes", "everysec", "", "noeviction")),
            ["appendfsync"]
        );
        assert_eq!(
            settings(judge("yes", "no", "", "noeviction")),
            ["appendfsync"]
        );
        assert_eq!(
            settings(judge("no", "always", "3600 1", "volatile-lru")),
            ["appendonly", "maxmemory-policy"]
        );
        // A server that answers nothing for a setting is not trusted.
        assert_eq!(
            settings(judge("", "", "", "")),
            ["appendonly", "maxmemory-policy"]
        );
    }
}
