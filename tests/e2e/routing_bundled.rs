//! The routing core on the bundled Double-11 scenario under the bundled `config/router.toml`
//! (read through the daemon's own reader), with the invariants checked after every command.

use std::collections::BTreeMap;

use peakcrew_core::routing::{
    AgentId, Availability, Command, ContactId, ContactState, CustomerId, EventKind, Millis, Router,
    Tier,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The bundled Double-11 scenario under the bundled `config/router.toml`: agents of every
/// group, arrivals in proportion to each queue's volume, returning customers, VIPs, ignored
/// offers and impatient customers, with the invariants checked after every command. With
/// patient customers and agents who always answer, every contact is served.
fn bundled_day(seed: u64, patient: bool) -> (u64, u64) {
    use peakcrew_plan::scenario::Scenario;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = Scenario::load(&root.join("scenarios/double11.toml")).unwrap();
    let catalog = scenario.catalog();
    let policy =
        peakcrew_serve::config::load_policy(&root.join("config/router.toml"), &catalog).unwrap();
    let mut router = Router::new(&policy, &catalog).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);

    #[derive(Debug, Clone)]
    enum Action {
        Arrive(usize),
        Accept(ContactId, AgentId),
        Complete(ContactId, AgentId),
        Abandon(ContactId),
        Available(AgentId),
    }
    let mut agenda: BTreeMap<(Millis, u64), Action> = BTreeMap::new();
    let mut order = 0u64;
    let mut at = |agenda: &mut BTreeMap<(Millis, u64), Action>, t: Millis, a: Action| {
        agenda.insert((t, order), a);
        order += 1;
    };
    let mut out = Vec::new();
    let mut agent = 0u64;
    for g in &scenario.groups {
        for _ in 0..g.headcount.min(5) {
            router
                .apply_into(
                    Command::Login {
                        agent: AgentId(agent),
                        skills: g.skills.clone(),
                        languages: g.languages.clone(),
                        capacity: None,
                    },
                    0,
                    &mut out,
                )
                .unwrap();
            agent += 1;
        }
    }
    let weights: Vec<f64> = scenario
        .queues
        .iter()
        .map(|q| q.volume.daily_contacts)
        .collect();
    let total: f64 = weights.iter().sum();
    let pick_queue = |rng: &mut ChaCha8Rng| {
        let mut x = rng.random_range(0.0..total);
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    };
    let arrivals = 2_500u64;
    for _ in 0..arrivals {
        let q = pick_queue(&mut rng);
        let t = rng.random_range(0..4 * 3600 * 1000);
        at(&mut agenda, t, Action::Arrive(q));
    }
    let (mut next_contact, mut completed, mut abandoned, mut commands) = (0u64, 0u64, 0u64, 0u64);
    let mut now: Millis = 0;
    loop {
        let next_action = agenda.keys().next().map(|k| k.0);
        let t = match (next_action, router.next_deadline()) {
            (Some(a), Some(d)) => a.min(d),
            (Some(a), None) => a,
            (None, Some(d)) => d,
            (None, None) => break,
        };
        now = now.max(t);
        let command = match agenda.first_key_value() {
            Some((k, _)) if k.0 <= now => {
                let (_, action) = agenda.pop_first().unwrap();
                match action {
                    Action::Arrive(q) => {
                        let contact = ContactId(next_contact);
                        next_contact += 1;
                        if !patient {
                            let patience = rng.random_range(30_000..900_000);
                            at(&mut agenda, now + patience, Action::Abandon(contact));
                        }
                        Command::Arrive {
                            contact,
                            queue: scenario.queues[q].id.clone(),
                            language: None,
                            priority: None,
                            tier: if rng.random_bool(0.05) {
                                Tier::Vip
                            } else {
                                Tier::Standard
                            },
                            customer: rng
                                .random_bool(0.6)
                                .then(|| CustomerId(rng.random_range(0..400))),
                        }
                    }
                    Action::Accept(contact, agent) => Command::Accept { contact, agent },
                    Action::Complete(contact, agent) => Command::Complete { contact, agent },
                    Action::Abandon(contact) => Command::Abandon { contact },
                    Action::Available(agent) => Command::SetAvailability {
                        agent,
                        availability: Availability::Available,
                    },
                }
            }
            _ => Command::Tick,
        };
        let result = router.apply_into(command.clone(), now, &mut out);
        commands += 1;
        if let Err(e) = &result {
            // Only an impatient customer's abandon after being served, or an accept of an
            // offer that already timed out, may be refused.
            let expected = matches!(command, Command::Abandon { .. } | Command::Accept { .. });
            assert!(expected, "seed {seed}: {command:?} refused: {e}");
        }
        if let Err(e) = router.check_invariants() {
            panic!("seed {seed}, command {commands} at {now} ms, {command:?}: {e}");
        }
        for e in out.drain(..) {
            match e.kind {
                EventKind::Offered { contact, agent, .. } if patient || rng.random_bool(0.97) => {
                    let delay = rng.random_range(500..5_000);
                    at(&mut agenda, now + delay, Action::Accept(contact, agent));
                    let handle = rng.random_range(60_000..900_000);
                    at(
                        &mut agenda,
                        now + delay + handle,
                        Action::Complete(contact, agent),
                    );
                }
                EventKind::AgentState {
                    agent,
                    state: peakcrew_core::routing::AgentState::NotResponding,
                } => {
                    at(&mut agenda, now + 30_000, Action::Available(agent));
                }
                EventKind::Completed { .. } => completed += 1,
                EventKind::Abandoned { .. } => abandoned += 1,
                _ => {}
            }
        }
        // A Complete for a contact whose accept was refused (the offer had timed out) or that
        // was abandoned first is refused too; drop those by checking state when due.
        agenda.retain(|_, a| match a {
            Action::Complete(c, agent) => {
                router
                    .contact_state(*c)
                    .is_some_and(|s| matches!(s, ContactState::Offered | ContactState::Accepted))
                    && router.contact(*c).and_then(|v| v.agent) == Some(*agent)
            }
            _ => true,
        });
        assert!(
            now < 7 * 24 * 3600 * 1000,
            "seed {seed}: not drained in a week"
        );
    }
    assert_eq!(router.live_contacts(), 0, "seed {seed}");
    assert_eq!(completed + abandoned, arrivals, "seed {seed}");
    if patient {
        assert_eq!(abandoned, 0);
    }
    (completed, abandoned)
}

#[test]
fn the_bundled_scenario_routes_cleanly_under_the_bundled_policy() {
    let (completed, abandoned) = bundled_day(11, false);
    assert!(
        completed > 1_000 && abandoned > 0,
        "{completed} {abandoned}"
    );
    let (completed, _) = bundled_day(12, true);
    assert_eq!(completed, 2_500);
}
