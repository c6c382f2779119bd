//! Who may call what: bearer tokens from the configuration, their roles, and a token bucket
//! per token that keeps any one client from taking the whole daemon.
//!
//! A token is looked up by its secret; the role then decides which routes it may call (see
//! [`Permission`]), and an agent token is bound to one agent id, which the engine enforces for
//! anything that needs state (the contacts an agent holds).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::config::{Credential, Role};
use super::engine::Actor;
use super::error::ApiError;

/// What a route needs from its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Admin or integration (the contact platform).
    Contacts,
    /// Admin, integration, or an agent (the engine limits agents to the contacts they hold).
    ContactAccess,
    /// Admin, or the agent named in the path (or body) itself.
    AgentSelf,
    /// Admin, integration, or the agent named in the path: reading an agent's assignments.
    AgentStream,
    /// Admin or integration: center-wide streams and metrics.
    Observe,
    /// Any valid token.
    Any,
}

/// A caller who passed authentication and its rate limit.
#[derive(Debug, Clone)]
pub struct Caller {
    pub client: usize,
    pub role: Role,
    /// The agent an agent token acts for.
    pub agent: Option<Arc<str>>,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        match (self.role, &self.agent) {
            (Role::Admin, _) => Actor::Admin,
            (Role::Integration, _) => Actor::Integration,
            (Role::Agent, Some(a)) => Actor::Agent(a.clone()),
            // Configuration checks make every agent token name its agent.
            (Role::Agent, None) => Actor::Integration,
        }
    }

    /// Whether this caller may use a route needing `p`, acting for `agent` if it names one.
    pub fn check(&self, p: Permission, agent: Option<&str>) -> Result<(), ApiError> {
        let ok = match (self.role, p) {
            (Role::Admin, _) | (_, Permission::Any) => true,
            (Role::Integration, Permission::AgentSelf) => false,
            (Role::Integration, _) => true,
            (Role::Agent, Permission::AgentSelf | Permission::AgentStream) => {
                agent.is_none() || agent == self.agent.as_deref()
            }
            (Role::Agent, Permission::ContactAccess) => true,
            (Role::Agent, Permission::Contacts | Permission::Observe) => false,
        };
        if ok {
            Ok(())
        } else {
            Err(ApiError::forbidden(match (self.role, agent) {
                (Role::Agent, Some(a)) if self.agent.as_deref() != Some(a) => format!(
                    "this token acts for agent `{}`, not `{a}`",
                    self.agent.as_deref().unwrap_or("")
                ),
                (role, _) => format!("a token of role `{}` may not do this", role_name(role)),
            }))
        }
    }
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Admin => "admin",
        Role::Integration => "integration",
        Role::Agent => "agent",
    }
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

pub struct Auth {
    by_secret: HashMap<String, usize>,
    credentials: Vec<Credential>,
    agents: Vec<Option<Arc<str>>>,
    buckets: Vec<Mutex<Bucket>>,
}

impl Auth {
    pub fn new(credentials: Vec<Credential>) -> Auth {
        let now = Instant::now();
        Auth {
            by_secret: credentials
                .iter()
                .enumerate()
                .map(|(i, c)| (c.secret.clone(), i))
                .collect(),
            agents: credentials
                .iter()
                .map(|c| c.agent.as_deref().map(Arc::from))
                .collect(),
            buckets: credentials
                .iter()
                .map(|c| {
                    Mutex::new(Bucket {
                        tokens: c.burst,
                        last: now,
                    })
                })
                .collect(),
            credentials,
        }
    }

    /// Takes `n` more from the bucket of an authenticated caller: a batch of contacts pays one
    /// per contact (its request already paid one when it was authenticated). All or nothing.
    pub fn charge(&self, caller: &Caller, n: f64) -> Result<(), ApiError> {
        if n > 0.0 {
            self.take(caller.client, n)?;
        }
        Ok(())
    }

    fn take(&self, client: usize, n: f64) -> Result<(), ApiError> {
        let cred = &self.credentials[client];
        let mut b = self.buckets[client]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let refill = now.duration_since(b.last).as_secs_f64() * cred.rate_per_second;
        b.tokens = (b.tokens + refill).min(cred.burst);
        b.last = now;
        if b.tokens < n {
            return Err(ApiError::new(
                429,
                "rate-limited",
                format!(
                    "token `{}` is over its limit of {} requests per second",
                    cred.name, cred.rate_per_second
                ),
            ));
        }
        b.tokens -= n;
        Ok(())
    }

    /// Checks the `Authorization` header's value and takes one request from the bucket.
    pub fn authenticate(&self, header: Option<&[u8]>) -> Result<Caller, ApiError> {
        let unauthorized = |m: &str| ApiError::new(401, "unauthorized", m);
        let header = header
            .ok_or_else(|| unauthorized("expected an `Authorization: Bearer <token>` header"))?;
        let secret = std::str::from_utf8(header)
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| unauthorized("expected an `Authorization: Bearer <token>` header"))?;
        let &client = self
            .by_secret
            .get(secret.trim())
            .ok_or_else(|| unauthorized("unknown token"))?;
        self.take(client, 1.0)?;
        Ok(Caller {
            client,
            role: self.credentials[client].role,
            agent: self.agents[client].clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cred(name: &str, role: Role, agent: Option<&str>, rate: f64, burst: f64) -> Credential {
        Credential {
            name: name.into(),
            secret: format!("{name}-secret-0123456789"),
            role,
            agent: agent.map(String::from),
            rate_per_second: rate,
            burst,
        }
    }

    #[test]
    fn roles_and_agent_binding() {
        let auth = Auth::new(vec![
            cred("admin", Role::Admin, None, 1e6, 1e6),
            cred("crm", Role::Integration, None, 1e6, 1e6),
            cred("a1", Role::Agent, Some("a-1"), 1e6, 1e6),
        ]);
        let bearer = |n: &str| format!("Bearer {n}-secret-0123456789");
        let admin = auth.authenticate(Some(bearer("admin").as_bytes())).unwrap();
        let crm = auth.authenticate(Some(bearer("crm").as_bytes())).unwrap();
        let a1 = auth.authenticate(Some(bearer("a1").as_bytes())).unwrap();
        assert!(admin.check(Permission::AgentSelf, Some("a-9")).is_ok());
        assert!(crm.check(Permission::Contacts, None).is_ok());
        assert!(crm.check(Permission::AgentSelf, Some("a-1")).is_err());
        assert!(a1.check(Permission::AgentSelf, Some("a-1")).is_ok());
        assert!(a1.check(Permission::AgentSelf, Some("a-2")).is_err());
        assert!(a1.check(Permission::Contacts, None).is_err());
        assert!(a1.check(Permission::Observe, None).is_err());
        assert_eq!(a1.actor(), Actor::Agent("a-1".into()));
        for bad in [None, Some(&b"Bearer nope"[..]), Some(&b"Basic xyz"[..])] {
            assert_eq!(auth.authenticate(bad).unwrap_err().status, 401);
        }
    }

    #[test]
    fn the_bucket_refuses_a_burst_beyond_its_size() {
        let auth = Auth::new(vec![cred("slow", Role::Integration, None, 0.001, 3.0)]);
        let h = b"Bearer slow-secret-0123456789";
        for _ in 0..3 {
            auth.authenticate(Some(h)).unwrap();
        }
        assert_eq!(auth.authenticate(Some(h)).unwrap_err().status, 429);
    }
}
