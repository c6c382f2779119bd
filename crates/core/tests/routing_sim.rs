//! Deterministic simulation tests of the routing core (TigerBeetle/FoundationDB style).
//!
//! A seeded generator drives the router with random workloads: arrivals (with language and
//! priority overrides, VIP tiers, returning customers), logins with random skills, languages
//! and capacities, logouts mid-contact, breaks, ignored offers (so offer timeouts fire),
//! abandonments, transfers, and nonsense on purpose: duplicate ids, accepts by the wrong agent,
//! completes of unknown or unaccepted contacts, time going backwards. Each seed also draws its
//! own policy (selection rule, relaxation, sticky, reserve, escalation, wrap-up, aging).
//! After every command the full invariant checker runs; a command that should be rejected must
//! be, and must leave the state digest unchanged.
//!
//! A failure names its seed and step; `ROUTING_SEED=<seed> cargo test --release -p peakcrew-core
//! --test routing_sim one_seed -- --nocapture` reruns exactly that workload.

// The harness, not the core, reads the seed to rerun from the environment.
#![allow(clippy::disallowed_methods)]

use std::collections::{BTreeMap, BTreeSet};

use peakcrew_core::model::{
    Channel, IntradayProfile, Language, Proficiency, Queue, Skill, SkillLevel, SlaTarget,
    VolumeProfile,
};
use peakcrew_core::routing::{
    AgentCapacity, AgentId, Availability, Catalog, Command, ContactId, ContactState, CustomerId,
    EscalationPolicy, Event, EventKind, Millis, PerChannel, Rejection, RelaxationStep,
    ReservePolicy, Router, RoutingPolicy, Selection, StickyPolicy, Tier, Urgency,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SKILLS: [&str; 4] = ["a", "b", "c", "sup"];
const LANGS: [&str; 3] = ["zh", "en", "ja"];

fn queue(id: &str, channel: Channel, skill: &str, lang: &str, sla: SlaTarget, prio: u8) -> Queue {
    Queue {
        id: id.into(),
        name: String::new(),
        channel,
        skill: Skill::new(skill),
        language: Language::new(lang),
        sla,
        patience_seconds: None,
        concurrency: 1,
        aht_seconds: 300.0,
        priority: prio,
        max_occupancy: None,
        shrinkage: None,
        volume: VolumeProfile {
            daily_contacts: 0.0,
            profile: IntradayProfile::Spread,
            weekend_factor: 1.0,
            annual_growth: 0.0,
        },
    }
}

fn catalog() -> Catalog {
    let sl = |t: f64| SlaTarget::ServiceLevel {
        fraction: 0.8,
        answer_seconds: t,
    };
    Catalog {
        queues: vec![
            queue("phone-a-zh", Channel::Phone, "a", "zh", sl(20.0), 3),
            queue("chat-a-zh", Channel::Chat, "a", "zh", sl(90.0), 4),
            queue("chat-b-en", Channel::Chat, "b", "en", sl(90.0), 5),
            queue(
                "email-c-zh",
                Channel::Email,
                "c",
                "zh",
                SlaTarget::Deadline { hours: 0.05 },
                7,
            ),
            queue("social-b-zh", Channel::Social, "b", "zh", sl(120.0), 6),
            queue("phone-c-ja", Channel::Phone, "c", "ja", sl(30.0), 2),
        ],
        skills: SKILLS.map(Skill::new).to_vec(),
        languages: LANGS.map(Language::new).to_vec(),
    }
}

/// A policy drawn from the seed, so the workloads cover every rule and their combinations.
fn random_policy(rng: &mut ChaCha8Rng) -> RoutingPolicy {
    let mut p = RoutingPolicy {
        selection: [
            Selection::LongestIdle,
            Selection::LeastOccupied,
            Selection::HighestProficiency,
            Selection::Weighted,
        ][rng.random_range(0..4)],
        prefer_specialists: rng.random_bool(0.7),
        min_proficiency: rng.random_range(1..=3),
        ..RoutingPolicy::default()
    };
    p.ordering.urgency = if rng.random_bool(0.7) {
        Urgency::Sla
    } else {
        Urgency::Age
    };
    if rng.random_bool(0.5) {
        p.ordering.priority_aging_seconds = rng.random_range(5.0..120.0);
    }
    if rng.random_bool(0.7) {
        p.relaxation.push(RelaxationStep {
            after_seconds: 10.0,
            expires_after_seconds: None,
            min_proficiency: Some(1),
            skills: Vec::new(),
            languages: Vec::new(),
        });
    }
    if rng.random_bool(0.5) {
        p.relaxation.push(RelaxationStep {
            after_seconds: 20.0,
            expires_after_seconds: rng.random_bool(0.5).then_some(60.0),
            min_proficiency: None,
            skills: vec![Skill::new(["a", "b", "c"][rng.random_range(0..3)])],
            languages: Vec::new(),
        });
    }
    if rng.random_bool(0.5) {
        p.relaxation.push(RelaxationStep {
            after_seconds: 40.0,
            expires_after_seconds: None,
            min_proficiency: None,
            skills: Vec::new(),
            languages: vec![Language::new("en")],
        });
    }
    let wrap = |rng: &mut ChaCha8Rng| {
        if rng.random_bool(0.5) {
            Some(0.0)
        } else {
            Some(rng.random_range(1.0..20.0))
        }
    };
    p.wrap_up = PerChannel {
        phone: wrap(rng),
        chat: wrap(rng),
        email: wrap(rng),
        social: wrap(rng),
        in_person: wrap(rng),
    };
    p.offer.timeout_seconds = rng.random_range(3.0..20.0);
    if rng.random_bool(0.6) {
        p.sticky = Some(StickyPolicy {
            window_seconds: rng.random_range(30.0..600.0),
            wait_seconds: if rng.random_bool(0.2) {
                0.0
            } else {
                rng.random_range(1.0..20.0)
            },
        });
    }
    if rng.random_bool(0.5) {
        p.reserve = Some(ReservePolicy {
            idle_agents: rng.random_range(0..3),
            free_units: rng.random_range(0..4),
            max_priority: Some(rng.random_range(0..4)),
            tiers: vec![Tier::Vip],
        });
        if let Some(r) = &mut p.reserve {
            if r.idle_agents == 0 && r.free_units == 0 {
                r.idle_agents = 1;
            }
        }
    }
    if rng.random_bool(0.6) {
        p.escalation = Some(EscalationPolicy {
            skill: Skill::new("sup"),
            priority: 0,
            grace_seconds: rng.random_range(0.0..60.0),
            answer_seconds: 30.0,
            fallback_seconds: rng.random_bool(0.5).then(|| rng.random_range(0.0..60.0)),
        });
    }
    p
}

/// What the driver knows, rebuilt from the events.
#[derive(Default)]
struct Known {
    offered: BTreeMap<u64, u64>,
    accepted: BTreeMap<u64, u64>,
    /// Contacts that are live (not completed or abandoned).
    live: BTreeSet<u64>,
    seen: Vec<u64>,
    logged_in: BTreeSet<u64>,
}

impl Known {
    fn absorb(&mut self, events: &[Event]) {
        for e in events {
            match &e.kind {
                EventKind::Offered { contact, agent, .. } => {
                    self.offered.insert(contact.0, agent.0);
                }
                EventKind::Accepted { contact, agent } => {
                    self.offered.remove(&contact.0);
                    self.accepted.insert(contact.0, agent.0);
                }
                EventKind::WrapUp { contact, .. } => {
                    self.accepted.remove(&contact.0);
                }
                EventKind::Completed { contact, .. } | EventKind::Abandoned { contact } => {
                    self.offered.remove(&contact.0);
                    self.accepted.remove(&contact.0);
                    self.live.remove(&contact.0);
                }
                EventKind::Requeued { contact, .. } | EventKind::Transferred { contact, .. } => {
                    self.offered.remove(&contact.0);
                    self.accepted.remove(&contact.0);
                }
                _ => {}
            }
        }
    }
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, set: impl ExactSizeIterator<Item = T>) -> Option<T> {
    let n = set.len();
    if n == 0 {
        return None;
    }
    let i = rng.random_range(0..n);
    set.into_iter().nth(i)
}

enum Expect {
    Ok,
    Rejected,
    Either,
}

struct Run {
    seed: u64,
    rng: ChaCha8Rng,
    router: Router,
    now: Millis,
    known: Known,
    next_contact: u64,
    commands: usize,
    /// Accepted commands with their times, for the replay check.
    log: Vec<(Command, Millis)>,
    events_hash: u64,
    rejections: usize,
    timeouts: usize,
    escalations: usize,
    completed: usize,
    abandoned: usize,
}

impl Run {
    fn new(seed: u64) -> Run {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let policy = random_policy(&mut rng);
        let router = Router::new(&policy, &catalog()).unwrap_or_else(|e| panic!("{e}"));
        Run {
            seed,
            rng,
            router,
            now: 0,
            known: Known::default(),
            next_contact: 0,
            commands: 0,
            log: Vec::new(),
            events_hash: 0xcbf2_9ce4_8422_2325,
            rejections: 0,
            timeouts: 0,
            escalations: 0,
            completed: 0,
            abandoned: 0,
        }
    }

    fn fail(&self, what: String) -> ! {
        panic!(
            "seed {} failed at command {} (t = {} ms): {what}\nreproduce: ROUTING_SEED={} cargo test --release -p peakcrew-core --test routing_sim one_seed -- --nocapture",
            self.seed, self.commands, self.now, self.seed
        )
    }

    fn send(&mut self, command: Command, expect: Expect) {
        let before = match expect {
            Expect::Ok => None,
            _ => Some(self.router.state_digest()),
        };
        let mut out = Vec::new();
        let result = self.router.apply_into(command.clone(), self.now, &mut out);
        self.commands += 1;
        match (&result, expect) {
            (Err(e), Expect::Ok) => self.fail(format!("{command:?} was rejected: {e}")),
            (Ok(()), Expect::Rejected) => self.fail(format!("{command:?} was accepted")),
            _ => {}
        }
        if result.is_err() {
            self.rejections += 1;
            if !out.is_empty() || Some(self.router.state_digest()) != before {
                self.fail(format!("rejected {command:?} changed the state: {out:?}"));
            }
        } else {
            self.log.push((command.clone(), self.now));
        }
        if let Err(e) = self.router.check_invariants() {
            self.fail(format!("after {command:?}: {e}\nevents: {out:#?}"));
        }
        for e in &out {
            match e.kind {
                EventKind::Requeued {
                    reason: peakcrew_core::routing::RequeueReason::OfferTimeout,
                    ..
                } => self.timeouts += 1,
                EventKind::Escalated { .. } => self.escalations += 1,
                EventKind::Completed { .. } => self.completed += 1,
                EventKind::Abandoned { .. } => self.abandoned += 1,
                _ => {}
            }
            let text = format!("{e:?}");
            for b in text.bytes() {
                self.events_hash = (self.events_hash ^ b as u64).wrapping_mul(0x100_0000_01b3);
            }
        }
        self.known.absorb(&out);
    }

    fn random_login(&mut self, agent: u64) -> Command {
        let rng = &mut self.rng;
        let mut skills = Vec::new();
        for s in SKILLS {
            if rng.random_bool(if s == "sup" { 0.25 } else { 0.5 }) {
                skills.push(SkillLevel {
                    skill: Skill::new(s),
                    proficiency: Proficiency::new(rng.random_range(1..=5)).unwrap(),
                });
            }
        }
        if skills.is_empty() {
            skills.push(SkillLevel {
                skill: Skill::new(SKILLS[rng.random_range(0..3)]),
                proficiency: Proficiency::new(rng.random_range(1..=5)).unwrap(),
            });
        }
        let mut languages: Vec<Language> = LANGS
            .iter()
            .filter(|_| rng.random_bool(0.4))
            .map(|l| Language::new(*l))
            .collect();
        if languages.is_empty() {
            languages.push(Language::new("zh"));
        }
        let capacity = match rng.random_range(0..4) {
            0 => {
                let mut max: BTreeMap<Channel, u32> = [(Channel::Chat, 2)].into_iter().collect();
                for c in Channel::ALL {
                    if rng.random_bool(0.6) {
                        max.insert(c, rng.random_range(1..=4));
                    }
                }
                Some(AgentCapacity {
                    units: Some(rng.random_range(2..=12)),
                    max,
                })
            }
            _ => None,
        };
        Command::Login {
            agent: AgentId(agent),
            skills,
            languages,
            capacity,
        }
    }

    fn step(&mut self) {
        // Time moves on; sometimes straight to the next deadline.
        if self.rng.random_bool(0.15) {
            if let Some(d) = self.router.next_deadline() {
                self.now = self.now.max(d);
            }
        } else {
            self.now += self.rng.random_range(0..2500);
        }
        // Bring the driver's knowledge up to date at this time, so expectations are exact.
        self.send(Command::Tick, Expect::Ok);

        let roll = self.rng.random_range(0..1000);
        let live = self.router.live_contacts();
        match roll {
            0..=249 if live < 120 => {
                let id = self.next_contact;
                self.next_contact += 1;
                self.known.live.insert(id);
                self.known.seen.push(id);
                let queues = catalog().queues;
                let q = &queues[self.rng.random_range(0..queues.len())];
                let language = self
                    .rng
                    .random_bool(0.15)
                    .then(|| Language::new(LANGS[self.rng.random_range(0..3)]));
                let priority = self
                    .rng
                    .random_bool(0.3)
                    .then(|| self.rng.random_range(0..=9));
                let tier = if self.rng.random_bool(0.1) {
                    Tier::Vip
                } else {
                    Tier::Standard
                };
                let customer = self
                    .rng
                    .random_bool(0.5)
                    .then(|| CustomerId(self.rng.random_range(0..40)));
                self.send(
                    Command::Arrive {
                        contact: ContactId(id),
                        queue: q.id.clone(),
                        language,
                        priority,
                        tier,
                        customer,
                    },
                    Expect::Ok,
                );
            }
            250..=269 => {
                // A duplicate id, or an invalid arrival.
                let seen = &self.known.seen;
                let dup = pick(&mut self.rng, seen.iter().copied());
                let cmd = match (dup, self.rng.random_range(0..4)) {
                    (Some(id), 0 | 1) => Command::Arrive {
                        contact: ContactId(id),
                        queue: "chat-a-zh".into(),
                        language: None,
                        priority: None,
                        tier: Tier::Standard,
                        customer: None,
                    },
                    (_, 2) => Command::Arrive {
                        contact: ContactId(u64::MAX - 1),
                        queue: "nowhere".into(),
                        language: None,
                        priority: None,
                        tier: Tier::Standard,
                        customer: None,
                    },
                    _ => Command::Arrive {
                        contact: ContactId(u64::MAX - 2),
                        queue: "chat-a-zh".into(),
                        language: None,
                        priority: Some(10 + self.rng.random_range(0..100)),
                        tier: Tier::Standard,
                        customer: None,
                    },
                };
                self.send(cmd, Expect::Rejected);
            }
            270..=499 => {
                // Accept an open offer; now and then by the wrong agent. Offers left alone
                // long enough time out.
                if let Some((c, a)) = pick(
                    &mut self.rng,
                    self.known.offered.iter().map(|(c, a)| (*c, *a)),
                ) {
                    if self.rng.random_bool(0.05) {
                        self.send(
                            Command::Accept {
                                contact: ContactId(c),
                                agent: AgentId(a + 1000),
                            },
                            Expect::Rejected,
                        );
                    } else {
                        self.send(
                            Command::Accept {
                                contact: ContactId(c),
                                agent: AgentId(a),
                            },
                            Expect::Ok,
                        );
                    }
                }
            }
            500..=679 => {
                if let Some((c, a)) = pick(
                    &mut self.rng,
                    self.known.accepted.iter().map(|(c, a)| (*c, *a)),
                ) {
                    let wrong = self.rng.random_bool(0.05);
                    self.send(
                        Command::Complete {
                            contact: ContactId(c),
                            agent: AgentId(if wrong { a + 1 } else { a }),
                        },
                        if wrong { Expect::Rejected } else { Expect::Ok },
                    );
                }
            }
            680..=709 => {
                // Out of order: complete an offered contact, accept an accepted one, act on
                // unknown or finished contacts.
                let choice = self.rng.random_range(0..4);
                let offered = pick(
                    &mut self.rng,
                    self.known.offered.iter().map(|(c, a)| (*c, *a)),
                );
                let accepted = pick(
                    &mut self.rng,
                    self.known.accepted.iter().map(|(c, a)| (*c, *a)),
                );
                let finished = pick(
                    &mut self.rng,
                    self.known
                        .seen
                        .iter()
                        .copied()
                        .filter(|c| !self.known.live.contains(c))
                        .collect::<Vec<_>>()
                        .into_iter(),
                );
                let cmd = match (choice, offered, accepted, finished) {
                    (0, Some((c, a)), _, _) => Command::Complete {
                        contact: ContactId(c),
                        agent: AgentId(a),
                    },
                    (1, _, Some((c, a)), _) => Command::Accept {
                        contact: ContactId(c),
                        agent: AgentId(a),
                    },
                    (2, _, _, Some(c)) => Command::Complete {
                        contact: ContactId(c),
                        agent: AgentId(0),
                    },
                    _ => Command::Abandon {
                        contact: ContactId(u64::MAX - 3),
                    },
                };
                self.send(cmd, Expect::Rejected);
            }
            710..=759 => {
                if let Some(c) = pick(&mut self.rng, self.known.live.iter().copied()) {
                    let state = self.router.contact_state(ContactId(c));
                    let ok = matches!(state, Some(ContactState::Queued | ContactState::Offered));
                    self.send(
                        Command::Abandon {
                            contact: ContactId(c),
                        },
                        if ok { Expect::Ok } else { Expect::Rejected },
                    );
                }
            }
            760..=779 => {
                if let Some(c) = pick(&mut self.rng, self.known.live.iter().copied()) {
                    let queues = catalog().queues;
                    let mut names: Vec<String> = queues.iter().map(|q| q.id.clone()).collect();
                    names.push("phone-a-zh/escalated".into());
                    let to = names[self.rng.random_range(0..names.len())].clone();
                    self.send(
                        Command::Transfer {
                            contact: ContactId(c),
                            queue: to,
                        },
                        Expect::Either,
                    );
                }
            }
            780..=839 => {
                let agent = self.rng.random_range(0..24);
                let logged_in = self.known.logged_in.contains(&agent);
                let cmd = self.random_login(agent);
                self.send(
                    cmd,
                    if logged_in {
                        Expect::Rejected
                    } else {
                        Expect::Ok
                    },
                );
                self.known.logged_in.insert(agent);
            }
            840..=864 => {
                let agent = self.rng.random_range(0..24);
                let logged_in = self.known.logged_in.remove(&agent);
                self.send(
                    Command::Logout {
                        agent: AgentId(agent),
                    },
                    if logged_in {
                        Expect::Ok
                    } else {
                        Expect::Rejected
                    },
                );
            }
            865..=954 => {
                if let Some(agent) = pick(&mut self.rng, self.known.logged_in.iter().copied()) {
                    let availability = if self.rng.random_bool(0.3) {
                        Availability::Break
                    } else {
                        Availability::Available
                    };
                    self.send(
                        Command::SetAvailability {
                            agent: AgentId(agent),
                            availability,
                        },
                        Expect::Ok,
                    );
                }
            }
            955..=969 => {
                let back = self.rng.random_range(1..5000);
                if self.now >= back {
                    let now = self.now;
                    self.now -= back;
                    let before = self.router.state_digest();
                    let mut out = Vec::new();
                    let r = self.router.apply_into(Command::Tick, self.now, &mut out);
                    self.commands += 1;
                    self.rejections += 1;
                    if !matches!(r, Err(Rejection::TimeWentBackwards { .. }))
                        || !out.is_empty()
                        || self.router.state_digest() != before
                    {
                        self.fail(format!(
                            "time going backwards was not refused cleanly: {r:?}"
                        ));
                    }
                    self.now = now;
                }
            }
            _ => {}
        }
    }

    fn run(&mut self, commands: usize) {
        while self.commands < commands {
            self.step();
        }
    }

    /// Replays the accepted commands (through JSON, as the daemon's log would) into a fresh
    /// router and compares states.
    fn check_replay(&self, policy_seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(policy_seed);
        let policy = random_policy(&mut rng);
        let mut replay = Router::new(&policy, &catalog()).unwrap();
        let mut out = Vec::new();
        for (command, now) in &self.log {
            let json = serde_json::to_string(command).unwrap();
            let command: Command = serde_json::from_str(&json).unwrap();
            if let Err(e) = replay.apply_into(command.clone(), *now, &mut out) {
                self.fail(format!("replay rejected {command:?}: {e}"));
            }
            out.clear();
        }
        replay
            .apply_into(Command::Tick, self.now, &mut out)
            .unwrap();
        if replay.state_digest() != self.router.state_digest() {
            self.fail("replaying the accepted commands gave another state".into());
        }
    }
}

/// Runs `seeds` seeds of `commands` commands each; returns the total command count.
fn run_seeds(seeds: std::ops::Range<u64>, commands: usize) -> usize {
    let mut total = 0;
    let (mut rej, mut to, mut esc, mut done, mut ab) = (0, 0, 0, 0, 0);
    for seed in seeds {
        let mut run = Run::new(seed);
        run.run(commands);
        run.check_replay(seed);
        total += run.commands;
        rej += run.rejections;
        to += run.timeouts;
        esc += run.escalations;
        done += run.completed;
        ab += run.abandoned;
    }
    println!(
        "{total} commands: {rej} rejected, {to} offer timeouts, {esc} escalations, {done} completed, {ab} abandoned"
    );
    // The workloads must actually exercise the paths they are meant to.
    assert!(
        rej > total / 50 && to > 0 && done > total / 50 && ab > 0,
        "weak workload"
    );
    total
}

/// 10^6 commands in release: 40 seeds of 25,000 commands, split over two tests so they run
/// on both cores.
#[test]
#[cfg_attr(debug_assertions, ignore = "10^6 commands: run with --release")]
fn a_million_random_commands_keep_every_invariant_part_1() {
    assert!(run_seeds(0..20, 25_000) >= 500_000);
}

#[test]
#[cfg_attr(debug_assertions, ignore = "10^6 commands: run with --release")]
fn a_million_random_commands_keep_every_invariant_part_2() {
    assert!(run_seeds(20..40, 25_000) >= 500_000);
}

/// The debug-build variant (smaller: the checker is slow unoptimized).
#[test]
fn random_commands_keep_every_invariant() {
    if cfg!(debug_assertions) {
        run_seeds(1000..1002, 2_500);
    } else {
        run_seeds(1000..1004, 5_000);
    }
}

#[test]
fn the_same_seed_gives_the_same_events_and_state() {
    let n = if cfg!(debug_assertions) { 1_500 } else { 5_000 };
    let mut a = Run::new(7);
    a.run(n);
    let mut b = Run::new(7);
    b.run(n);
    assert_eq!(a.events_hash, b.events_hash);
    assert_eq!(a.router.state_digest(), b.router.state_digest());
    let mut c = Run::new(8);
    c.run(n);
    assert_ne!(a.events_hash, c.events_hash);
}

/// `reset` rebuilds exactly a fresh router: after a random workload, a reset router is a
/// fresh one byte for byte, and a second workload (its own command stream under the same
/// policy) gives it the same events, state digest and bytes as a fresh router given only the
/// second workload. A field that survived the reset would show in one of the three.
#[test]
fn reset_rebuilds_exactly_a_fresh_router() {
    let (seeds, n) = if cfg!(debug_assertions) {
        (0..2, 1_500)
    } else {
        (0..8, 5_000)
    };
    let bytes = |r: &Router| bincode::serialize(r).unwrap();
    for seed in seeds {
        let mut first = Run::new(seed);
        first.run(n);
        assert!(first.router.live_contacts() > 0 || first.completed > 0);
        let mut reset = first.router.clone();
        reset.reset();
        reset.check_invariants().unwrap();
        let fresh = Run::new(seed).router;
        assert_eq!(reset.state_digest(), fresh.state_digest(), "seed {seed}");
        assert!(
            bytes(&reset) == bytes(&fresh),
            "seed {seed}: reset differs from fresh"
        );
        // The second workload draws from its own stream, so it is not a replay of the first.
        let second = |router: Router| Run {
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_5eed_5eed),
            router,
            ..Run::new(seed)
        };
        let mut again = second(reset);
        again.run(n);
        let mut once = second(fresh);
        once.run(n);
        assert_ne!(again.events_hash, first.events_hash, "seed {seed}");
        assert_eq!(
            again.events_hash, once.events_hash,
            "seed {seed}: events differ"
        );
        assert_eq!(
            again.router.state_digest(),
            once.router.state_digest(),
            "seed {seed}: states differ"
        );
        assert!(
            bytes(&again.router) == bytes(&once.router),
            "seed {seed}: reset-then-run differs from fresh-then-run"
        );
    }
}

/// The per-queue facts: every catalog queue, then a supervisor twin for each escalating one,
/// with the targets, costs, wrap-ups and short-abandon thresholds the core routes with.
#[test]
fn queue_facts_describe_every_queue_and_its_twin() {
    use peakcrew_core::routing::{QueueIx, QueueOverride};
    let mut policy = RoutingPolicy {
        escalation: Some(EscalationPolicy {
            skill: Skill::new("sup"),
            priority: 0,
            grace_seconds: 10.0,
            answer_seconds: 30.0,
            fallback_seconds: None,
        }),
        short_abandon_seconds: 5.0,
        ..RoutingPolicy::default()
    };
    policy.queues.insert(
        "chat-a-zh".into(),
        QueueOverride {
            short_abandon_seconds: Some(2.5),
            wrap_up_seconds: Some(7.0),
            ..QueueOverride::default()
        },
    );
    policy.queues.insert(
        "phone-a-zh/escalated".into(),
        QueueOverride {
            short_abandon_seconds: Some(1.0),
            ..QueueOverride::default()
        },
    );
    policy.queues.insert(
        "email-c-zh".into(),
        QueueOverride {
            escalate: Some(false),
            ..QueueOverride::default()
        },
    );
    let mut router = Router::new(&policy, &catalog()).unwrap();
    let facts = router.queue_facts().to_vec();
    let names: Vec<&str> = facts.iter().map(|f| &*f.name).collect();
    assert_eq!(
        names,
        [
            "phone-a-zh",
            "chat-a-zh",
            "chat-b-en",
            "email-c-zh",
            "social-b-zh",
            "phone-c-ja",
            "phone-a-zh/escalated",
            "chat-a-zh/escalated",
            "chat-b-en/escalated",
            "social-b-zh/escalated",
            "phone-c-ja/escalated",
        ]
    );
    for (i, f) in facts.iter().enumerate() {
        assert_eq!(router.queue_name(QueueIx(i as u16)), Some(&*f.name));
        assert_eq!(router.queue_index(&f.name), Some(QueueIx(i as u16)));
        if let Some(twin) = f.escalates_to {
            assert_eq!(facts[twin.0 as usize].twin_of, Some(QueueIx(i as u16)));
        }
    }
    let phone = &facts[0];
    assert_eq!(phone.channel, Channel::Phone);
    assert_eq!(phone.skill.as_str(), "a");
    assert_eq!(phone.language.as_ref().map(Language::as_str), Some("zh"));
    assert_eq!(phone.answer_target_ms, 20_000);
    assert_eq!(phone.unit_cost, 6);
    assert_eq!(phone.wrap_up_ms, 15_000);
    assert_eq!(phone.escalates_to, Some(QueueIx(6)));
    assert_eq!(phone.twin_of, None);
    assert_eq!(phone.short_abandon_ms, 5_000);
    let chat = &facts[1];
    assert_eq!((chat.unit_cost, chat.wrap_up_ms), (2, 7_000));
    assert_eq!(chat.short_abandon_ms, 2_500);
    let email = &facts[3];
    assert_eq!(email.answer_target_ms, 180_000); // 0.05 hours
    assert_eq!((email.unit_cost, email.escalates_to), (3, None));
    let phone_twin = &facts[6];
    assert_eq!(phone_twin.channel, Channel::Phone);
    assert_eq!(phone_twin.skill.as_str(), "sup");
    assert_eq!(
        phone_twin.language.as_ref().map(Language::as_str),
        Some("zh")
    );
    assert_eq!(phone_twin.answer_target_ms, 30_000);
    assert_eq!((phone_twin.unit_cost, phone_twin.wrap_up_ms), (6, 15_000));
    assert_eq!(phone_twin.twin_of, Some(QueueIx(0)));
    assert_eq!(phone_twin.escalates_to, None);
    assert_eq!(phone_twin.short_abandon_ms, 1_000);
    // A twin without overrides keeps its queue's wrap-up and short-abandon threshold.
    let chat_twin = &facts[7];
    assert_eq!(
        (chat_twin.wrap_up_ms, chat_twin.short_abandon_ms),
        (7_000, 2_500)
    );
    assert_eq!(chat_twin.twin_of, Some(QueueIx(1)));

    // The facts are what the core routes with: the SLA deadline and escalation use the target.
    let mut out = Vec::new();
    router
        .apply_into(
            Command::Arrive {
                contact: ContactId(1),
                queue: "phone-a-zh".into(),
                language: None,
                priority: None,
                tier: Tier::Standard,
                customer: None,
            },
            1_000,
            &mut out,
        )
        .unwrap();
    let view = router.contact(ContactId(1)).unwrap();
    assert_eq!(view.sla_deadline, 1_000 + phone.answer_target_ms);
    assert_eq!(router.next_deadline(), Some(1_000 + 20_000 + 10_000));
    // Resetting keeps the compiled policy and so the facts.
    router.reset();
    assert_eq!(router.queue_facts(), &facts[..]);
}

/// Reruns one seed given in `ROUTING_SEED` (for a failure report); skips without it.
#[test]
fn one_seed() {
    let Ok(seed) = std::env::var("ROUTING_SEED") else {
        println!("set ROUTING_SEED to rerun one seed");
        return;
    };
    let seed: u64 = seed.parse().expect("ROUTING_SEED must be an integer");
    let commands = std::env::var("ROUTING_COMMANDS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(25_000);
    let mut run = Run::new(seed);
    run.run(commands);
    run.check_replay(seed);
    println!("seed {seed}: {} commands passed", run.commands);
}

/// Liveness: with unlimited patience, responsive agents and enough of them for every skill and
/// language, every contact is eventually served, whatever the policy.
#[test]
fn with_patient_customers_and_enough_agents_everyone_is_served() {
    let seeds = if cfg!(debug_assertions) { 3 } else { 12 };
    for seed in 0..seeds {
        let mut rng = ChaCha8Rng::seed_from_u64(1_000 + seed);
        let policy = random_policy(&mut rng);
        let mut router = Router::new(&policy, &catalog()).unwrap();
        let mut now: Millis = 0;
        let mut out = Vec::new();
        // Every skill (supervisors included) in every language, at every level, twice over.
        let mut agent = 0;
        for s in SKILLS {
            for l in LANGS {
                for p in [1u8, 3, 5] {
                    router
                        .apply_into(
                            Command::Login {
                                agent: AgentId(agent),
                                skills: vec![SkillLevel {
                                    skill: Skill::new(s),
                                    proficiency: Proficiency::new(p).unwrap(),
                                }],
                                languages: vec![Language::new(l)],
                                capacity: None,
                            },
                            now,
                            &mut out,
                        )
                        .unwrap();
                    agent += 1;
                }
            }
        }
        let queues = catalog().queues;
        let arrivals = if cfg!(debug_assertions) {
            500
        } else {
            1_500u64
        };
        let mut busy: BTreeMap<Millis, Vec<(ContactId, AgentId)>> = BTreeMap::new();
        let mut completed = 0u64;
        let mut next = 0u64;
        let mut handled = BTreeSet::new();
        while completed < arrivals {
            if next < arrivals {
                let q = &queues[rng.random_range(0..queues.len())];
                router
                    .apply_into(
                        Command::Arrive {
                            contact: ContactId(next),
                            queue: q.id.clone(),
                            language: rng
                                .random_bool(0.2)
                                .then(|| Language::new(LANGS[rng.random_range(0..3)])),
                            priority: Some(rng.random_range(0..=9)),
                            tier: if rng.random_bool(0.1) {
                                Tier::Vip
                            } else {
                                Tier::Standard
                            },
                            customer: rng
                                .random_bool(0.5)
                                .then(|| CustomerId(rng.random_range(0..30))),
                        },
                        now,
                        &mut out,
                    )
                    .unwrap();
                next += 1;
            }
            // Agents accept every offer at once and finish after a random handle time.
            let mut i = 0;
            while i < out.len() {
                let e = out[i].clone();
                i += 1;
                match e.kind {
                    EventKind::Offered { contact, agent, .. } => {
                        let mut more = Vec::new();
                        router
                            .apply_into(Command::Accept { contact, agent }, now, &mut more)
                            .unwrap();
                        out.extend(more);
                        let done = now + rng.random_range(1_000..60_000);
                        busy.entry(done).or_default().push((contact, agent));
                    }
                    EventKind::Completed { contact, .. } => {
                        assert!(handled.insert(contact), "contact {contact} completed twice");
                        completed += 1;
                    }
                    EventKind::Abandoned { .. } | EventKind::Rejected { .. } => {
                        panic!("seed {seed}: unexpected {e:?}")
                    }
                    _ => {}
                }
            }
            out.clear();
            router
                .check_invariants()
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            if completed == arrivals {
                break;
            }
            // Next moment: an arrival every ~3 s while they last, else the next completion or
            // deadline.
            let next_done = busy.keys().next().copied();
            let next_deadline = router.next_deadline();
            let candidates = [
                (next < arrivals).then(|| now + rng.random_range(0..6_000)),
                next_done,
                next_deadline,
            ];
            let Some(t) = candidates.into_iter().flatten().min() else {
                panic!(
                    "seed {seed}: stuck with {} of {arrivals} completed and nothing scheduled; waiting: {:?}",
                    completed,
                    router.queue_stats()
                );
            };
            now = t.max(now);
            router.apply_into(Command::Tick, now, &mut out).unwrap();
            if let Some(list) = busy.remove(&now) {
                for (contact, agent) in list {
                    router
                        .apply_into(Command::Complete { contact, agent }, now, &mut out)
                        .unwrap();
                }
            }
            assert!(
                now < 48 * 3600 * 1000,
                "seed {seed}: not drained after two days"
            );
        }
        assert_eq!(router.live_contacts(), 0);
    }
}
