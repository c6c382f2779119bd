//! Unit tests of the routing core: one test per policy rule, each built so that it fails if the
//! rule is removed (a contrasting setting or agent would be chosen instead), plus rejections,
//! deadlines, serialization and reset. Every command of every test is followed by the full
//! invariant check.

use super::*;
use crate::model::{
    Channel, IntradayProfile, Language, Proficiency, Queue, Skill, SkillLevel, SlaTarget,
    VolumeProfile,
};

const S: Millis = 1000;

fn queue(
    id: &str,
    channel: Channel,
    skill: &str,
    lang: &str,
    answer_s: f64,
    priority: u8,
) -> Queue {
    Queue {
        id: id.into(),
        name: String::new(),
        channel,
        skill: Skill::new(skill),
        language: Language::new(lang),
        sla: SlaTarget::ServiceLevel {
            fraction: 0.8,
            answer_seconds: answer_s,
        },
        patience_seconds: None,
        concurrency: 1,
        aht_seconds: 300.0,
        priority,
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

/// A policy without wrap-up, so completions free agents at once unless a test wants wrap-up.
fn policy() -> RoutingPolicy {
    RoutingPolicy {
        wrap_up: PerChannel {
            phone: Some(0.0),
            chat: Some(0.0),
            email: Some(0.0),
            social: Some(0.0),
            in_person: Some(0.0),
        },
        ..RoutingPolicy::default()
    }
}

fn phone_queues() -> Vec<Queue> {
    vec![
        queue("zh-phone", Channel::Phone, "general", "zh", 20.0, 5),
        queue("zh-chat", Channel::Chat, "general", "zh", 90.0, 5),
    ]
}

struct H {
    r: Router,
    now: Millis,
}

impl H {
    fn new(policy: RoutingPolicy, queues: Vec<Queue>) -> H {
        let catalog = Catalog {
            queues,
            skills: ["general", "returns", "presales", "supervisor", "overflow"]
                .map(Skill::new)
                .to_vec(),
            languages: ["zh", "en", "ja"].map(Language::new).to_vec(),
        };
        let r = Router::new(&policy, &catalog).unwrap_or_else(|e| panic!("{e}"));
        H { r, now: 0 }
    }

    fn at(&mut self, seconds: f64) -> &mut H {
        self.now = (seconds * 1000.0) as Millis;
        self
    }

    fn ok(&mut self, command: Command) -> Vec<Event> {
        let mut out = Vec::new();
        let result = self.r.apply_into(command.clone(), self.now, &mut out);
        if let Err(e) = result {
            panic!("{command:?} at {} rejected: {e}", self.now);
        }
        if let Err(e) = self.r.check_invariants() {
            panic!("after {command:?} at {}: {e}\nevents: {out:#?}", self.now);
        }
        out
    }

    /// The command must be rejected and must change nothing.
    fn rejected(&mut self, command: Command) -> Rejection {
        self.ok(Command::Tick);
        let before = self.r.state_digest();
        let mut out = Vec::new();
        let err = self
            .r
            .apply_into(command.clone(), self.now, &mut out)
            .expect_err("command should be rejected");
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(
            self.r.state_digest(),
            before,
            "{command:?} changed the state"
        );
        self.r.check_invariants().unwrap();
        err
    }

    fn login(&mut self, agent: u64, skills: &[(&str, u8)], langs: &[&str]) -> Vec<Event> {
        self.login_with(agent, skills, langs, None)
    }

    fn login_with(
        &mut self,
        agent: u64,
        skills: &[(&str, u8)],
        langs: &[&str],
        capacity: Option<AgentCapacity>,
    ) -> Vec<Event> {
        self.ok(Command::Login {
            agent: AgentId(agent),
            skills: skills
                .iter()
                .map(|(s, p)| SkillLevel {
                    skill: Skill::new(*s),
                    proficiency: Proficiency::new(*p).unwrap(),
                })
                .collect(),
            languages: langs.iter().map(|l| Language::new(*l)).collect(),
            capacity,
        })
    }

    fn arrive(&mut self, contact: u64, queue: &str) -> Vec<Event> {
        self.arrive_with(contact, queue, None, None, Tier::Standard, None)
    }

    fn arrive_with(
        &mut self,
        contact: u64,
        queue: &str,
        language: Option<&str>,
        priority: Option<u8>,
        tier: Tier,
        customer: Option<u64>,
    ) -> Vec<Event> {
        self.ok(Command::Arrive {
            contact: ContactId(contact),
            queue: queue.into(),
            language: language.map(Language::new),
            priority,
            tier,
            customer: customer.map(CustomerId),
        })
    }

    fn accept(&mut self, contact: u64, agent: u64) -> Vec<Event> {
        self.ok(Command::Accept {
            contact: ContactId(contact),
            agent: AgentId(agent),
        })
    }

    fn complete(&mut self, contact: u64, agent: u64) -> Vec<Event> {
        self.ok(Command::Complete {
            contact: ContactId(contact),
            agent: AgentId(agent),
        })
    }

    fn tick(&mut self) -> Vec<Event> {
        self.ok(Command::Tick)
    }

    fn holder(&self, contact: u64) -> Option<u64> {
        self.r
            .contact(ContactId(contact))
            .and_then(|c| c.agent)
            .map(|a| a.0)
    }

    fn state(&self, contact: u64) -> ContactState {
        self.r.contact_state(ContactId(contact)).unwrap()
    }
}

/// (contact, agent) of every offer among the events.
fn offers(events: &[Event]) -> Vec<(u64, u64)> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Offered { contact, agent, .. } => Some((contact.0, agent.0)),
            _ => None,
        })
        .collect()
}

fn general(p: u8) -> [(&'static str, u8); 1] {
    [("general", p)]
}

// ---------------------------------------------------------------- agent selection

#[test]
fn longest_idle_picks_the_agent_free_longest() {
    let mut h = H::new(policy(), phone_queues());
    h.at(0.0).login(1, &general(3), &["zh"]);
    h.at(10.0).login(2, &general(3), &["zh"]);
    assert_eq!(offers(&h.at(20.0).arrive(100, "zh-phone")), vec![(100, 1)]);
    h.accept(100, 1);
    h.at(30.0).complete(100, 1);
    // Agent 1 is free again since 30 s, agent 2 since 10 s.
    assert_eq!(offers(&h.at(40.0).arrive(101, "zh-phone")), vec![(101, 2)]);
}

#[test]
fn least_occupied_prefers_the_emptier_agent() {
    let chat_only = || AgentCapacity {
        units: Some(6),
        max: [(Channel::Chat, 3)].into_iter().collect(),
    };
    for (selection, expected) in [(Selection::LeastOccupied, 2), (Selection::LongestIdle, 1)] {
        let mut p = policy();
        p.selection = selection;
        let mut h = H::new(p, phone_queues());
        h.at(0.0)
            .login_with(1, &general(3), &["zh"], Some(chat_only()));
        assert_eq!(offers(&h.arrive(100, "zh-chat")), vec![(100, 1)]);
        h.accept(100, 1);
        // Agent 2 is idle but has been so for less time than agent 1's last change.
        h.at(5.0)
            .login_with(2, &general(3), &["zh"], Some(chat_only()));
        assert_eq!(
            offers(&h.at(6.0).arrive(101, "zh-chat")),
            vec![(101, expected)],
            "{selection:?}"
        );
    }
}

#[test]
fn highest_proficiency_prefers_the_expert() {
    for (selection, expected) in [
        (Selection::HighestProficiency, 2),
        (Selection::LongestIdle, 1),
    ] {
        let mut p = policy();
        p.selection = selection;
        let mut h = H::new(p, phone_queues());
        h.at(0.0).login(1, &general(3), &["zh"]);
        h.at(1.0).login(2, &general(5), &["zh"]);
        assert_eq!(
            offers(&h.at(2.0).arrive(100, "zh-phone")),
            vec![(100, expected)]
        );
    }
}

#[test]
fn weighted_score_trades_idle_time_against_proficiency() {
    // Score = idle minutes + proficiency. Agent 1: level 2, idle since 0. Agent 2: level 5.
    let run = |agent2_since: f64| {
        let mut p = policy();
        p.selection = Selection::Weighted;
        p.weights = SelectionWeights {
            idle_per_minute: 1.0,
            free_capacity: 0.0,
            proficiency: 1.0,
        };
        p.prefer_specialists = false;
        let mut h = H::new(p, phone_queues());
        h.at(0.0).login(1, &general(2), &["zh"]);
        h.at(agent2_since).login(2, &general(5), &["zh"]);
        offers(&h.at(300.0).arrive(100, "zh-phone"))[0].1
    };
    // At 300 s agent 1 scores 5 + 2 = 7. Agent 2 idle since 120 s scores 3 + 5 = 8 (longest
    // idle would pick agent 1); idle since 240 s it scores 1 + 5 = 6 (highest proficiency
    // would pick agent 2).
    assert_eq!(run(120.0), 2);
    assert_eq!(run(240.0), 1);
}

#[test]
fn specialists_go_before_cross_trained_agents() {
    let queues = vec![queue("returns", Channel::Phone, "returns", "zh", 20.0, 5)];
    for (prefer, expected) in [(true, 2), (false, 1)] {
        let mut p = policy();
        p.prefer_specialists = prefer;
        let mut h = H::new(p, queues.clone());
        // Agent 1's strongest skill is presales: returns is its cross-training.
        h.at(0.0)
            .login(1, &[("returns", 4), ("presales", 5)], &["zh"]);
        h.at(1.0).login(2, &[("returns", 4)], &["zh"]);
        assert_eq!(
            offers(&h.at(2.0).arrive(100, "returns")),
            vec![(100, expected)]
        );
    }
}

// ---------------------------------------------------------------- contact ordering

/// One busy phone agent; contacts queue behind it; returns the contact it takes next.
fn next_taken(
    p: RoutingPolicy,
    queues: Vec<Queue>,
    arrivals: &[(f64, u64, &str, Option<u8>)],
    free_at: f64,
) -> u64 {
    let mut h = H::new(p, queues);
    h.at(0.0).login(1, &general(3), &["zh"]);
    h.arrive(99, "zh-phone");
    h.accept(99, 1);
    for &(t, id, q, prio) in arrivals {
        h.at(t).arrive_with(id, q, None, prio, Tier::Standard, None);
    }
    let events = h.at(free_at).complete(99, 1);
    offers(&events)[0].0
}

#[test]
fn a_higher_priority_class_goes_first() {
    let arrivals = [
        (1.0, 100, "zh-phone", Some(5)),
        (2.0, 101, "zh-phone", Some(1)),
    ];
    assert_eq!(next_taken(policy(), phone_queues(), &arrivals, 10.0), 101);
    // Same class: first come, first served.
    let arrivals = [
        (1.0, 100, "zh-phone", Some(5)),
        (2.0, 101, "zh-phone", Some(5)),
    ];
    assert_eq!(next_taken(policy(), phone_queues(), &arrivals, 10.0), 100);
}

#[test]
fn sla_urgency_weights_age_by_the_answer_target() {
    let queues = vec![
        queue("zh-phone", Channel::Phone, "general", "zh", 20.0, 5),
        queue("zh-callback", Channel::Phone, "general", "zh", 100.0, 5),
    ];
    // At 20 s: the callback has used 19/100 of its target, the newer call 10/20.
    let arrivals = [
        (1.0, 100, "zh-callback", None),
        (10.0, 101, "zh-phone", None),
    ];
    assert_eq!(next_taken(policy(), queues.clone(), &arrivals, 20.0), 101);
    let mut p = policy();
    p.ordering.urgency = Urgency::Age;
    assert_eq!(next_taken(p, queues, &arrivals, 20.0), 100);
}

#[test]
fn priority_aging_keeps_low_classes_from_starving() {
    let mut p = policy();
    p.ordering.priority_aging_seconds = 60.0;
    // Class 5 waiting 250 s has aged four classes to 1, ahead of a fresh class 2.
    let arrivals = [
        (1.0, 100, "zh-phone", Some(5)),
        (250.0, 101, "zh-phone", Some(2)),
    ];
    assert_eq!(next_taken(p, phone_queues(), &arrivals, 251.0), 100);
    assert_eq!(next_taken(policy(), phone_queues(), &arrivals, 251.0), 101);
}

#[test]
fn a_waiting_chat_is_never_skipped_for_a_newer_one() {
    let queues = vec![
        queue("chat-a", Channel::Chat, "general", "zh", 90.0, 5),
        queue("chat-b", Channel::Chat, "general", "zh", 90.0, 5),
    ];
    let mut h = H::new(policy(), queues);
    h.at(0.0).login(1, &general(3), &["zh"]);
    for id in 1..=3 {
        h.arrive(id, "chat-a");
        h.accept(id, 1);
    }
    // The agent is full; two chats wait, the older one in the other queue.
    h.at(1.0).arrive(10, "chat-b");
    h.at(2.0).arrive(11, "chat-a");
    h.at(3.0).arrive(12, "chat-b");
    assert_eq!(offers(&h.at(5.0).complete(1, 1)), vec![(10, 1)]);
    assert_eq!(offers(&h.at(6.0).complete(2, 1)), vec![(11, 1)]);
    assert_eq!(offers(&h.at(7.0).complete(3, 1)), vec![(12, 1)]);
}

// ---------------------------------------------------------------- relaxation

fn relaxed(steps: Vec<RelaxationStep>) -> RoutingPolicy {
    let mut p = policy();
    p.min_proficiency = 3;
    p.relaxation = steps;
    p
}

fn step(after: f64) -> RelaxationStep {
    RelaxationStep {
        after_seconds: after,
        expires_after_seconds: None,
        min_proficiency: None,
        skills: Vec::new(),
        languages: Vec::new(),
    }
}

#[test]
fn relaxation_accepts_lower_proficiency_after_its_wait() {
    let mut h = H::new(
        relaxed(vec![RelaxationStep {
            min_proficiency: Some(2),
            ..step(30.0)
        }]),
        phone_queues(),
    );
    h.at(0.0).login(1, &general(2), &["zh"]);
    assert!(offers(&h.arrive(100, "zh-phone")).is_empty());
    assert_eq!(h.r.next_deadline(), Some(30 * S));
    assert!(offers(&h.at(29.9).tick()).is_empty());
    let events = h.at(31.0).tick();
    assert_eq!(offers(&events), vec![(100, 1)]);
    assert_eq!(events[0].at, 30 * S, "the ring opens at its due time");
    h.accept(100, 1);
    // A proficient agent is preferred over the relaxed ring.
    h.at(40.0).login(2, &general(4), &["zh"]);
    h.at(41.0).login(3, &general(2), &["zh"]);
    h.at(50.0).arrive(101, "zh-phone");
    assert_eq!(h.holder(101), Some(2));
}

#[test]
fn relaxation_reaches_overflow_skills_and_inner_rings_go_first() {
    let mut h = H::new(
        relaxed(vec![RelaxationStep {
            skills: vec![Skill::new("overflow")],
            ..step(60.0)
        }]),
        phone_queues(),
    );
    h.at(0.0).login(1, &[("overflow", 5)], &["zh"]);
    h.arrive(100, "zh-phone");
    assert_eq!(h.state(100), ContactState::Queued);
    assert!(offers(&h.at(59.0).tick()).is_empty());
    assert_eq!(offers(&h.at(60.0).tick()), vec![(100, 1)]);
    // Agent 1 would take an old contact by itself once it frees up (agent-side eligibility).
    h.accept(100, 1);
    h.at(61.0).arrive(101, "zh-phone");
    assert!(offers(&h.at(130.0).complete(100, 1)) == vec![(101, 1)]);
}

#[test]
fn a_relaxation_step_expires() {
    let mut h = H::new(
        relaxed(vec![RelaxationStep {
            skills: vec![Skill::new("overflow")],
            expires_after_seconds: Some(20.0),
            ..step(10.0)
        }]),
        phone_queues(),
    );
    h.at(0.0).login(1, &[("overflow", 5)], &["zh"]);
    h.login(2, &general(5), &["zh"]);
    // Both agents busy.
    h.arrive(1, "zh-phone");
    h.accept(1, 2);
    h.arrive_with(2, "zh-phone", None, None, Tier::Standard, None);
    // Contact 2 waits (agent 1 is not eligible yet); agent 1 becomes eligible at 10 s.
    assert_eq!(offers(&h.at(10.0).tick()), vec![(2, 1)]);
    h.accept(2, 1);
    h.at(11.0).arrive(3, "zh-phone");
    // At 25 s contact 3 is 14 s old: inside the window, agent 1 takes it.
    assert_eq!(offers(&h.at(25.0).complete(2, 1)), vec![(3, 1)]);
    h.accept(3, 1);
    h.at(30.0).arrive(4, "zh-phone");
    // At 55 s contact 4 is 25 s old: the step has expired, agent 1 stays idle.
    assert!(offers(&h.at(55.0).complete(3, 1)).is_empty());
    assert_eq!(h.state(4), ContactState::Queued);
}

#[test]
fn language_is_hard_unless_a_fallback_is_named() {
    let queues = vec![queue("ja-chat", Channel::Chat, "general", "ja", 90.0, 4)];
    let mut h = H::new(relaxed(vec![]), queues.clone());
    h.at(0.0).login(1, &general(5), &["en", "zh"]);
    h.arrive(100, "ja-chat");
    assert!(offers(&h.at(3600.0).tick()).is_empty());
    assert_eq!(h.state(100), ContactState::Queued);

    let mut h = H::new(
        relaxed(vec![RelaxationStep {
            languages: vec![Language::new("en")],
            ..step(120.0)
        }]),
        queues,
    );
    h.at(0.0).login(1, &general(5), &["en", "zh"]);
    h.arrive(100, "ja-chat");
    assert!(offers(&h.at(119.0).tick()).is_empty());
    assert_eq!(offers(&h.at(120.0).tick()), vec![(100, 1)]);
}

// ---------------------------------------------------------------- sticky routing

fn sticky_policy() -> RoutingPolicy {
    let mut p = policy();
    p.sticky = Some(StickyPolicy {
        window_seconds: 3600.0,
        wait_seconds: 20.0,
    });
    p
}

fn served_by_2(h: &mut H) {
    h.at(0.0).login(1, &general(3), &["zh"]);
    h.at(1.0).login(2, &general(3), &["zh"]);
    h.at(2.0).login(3, &general(3), &["zh"]);
    // Agents 1 and 2 busy; the customer's first contact goes to agent 3... make it agent 2.
    h.at(3.0).arrive(1, "zh-phone");
    h.accept(1, 1);
    h.at(4.0)
        .arrive_with(2, "zh-chat", None, None, Tier::Standard, Some(77));
    h.accept(2, 2);
    h.at(5.0).complete(2, 2);
    h.at(6.0).complete(1, 1);
}

#[test]
fn sticky_routing_returns_a_customer_to_the_last_agent() {
    let mut h = H::new(sticky_policy(), phone_queues());
    served_by_2(&mut h);
    // Agent 3 has been idle longest, but the customer comes back to agent 2 on another channel.
    let e = h
        .at(100.0)
        .arrive_with(10, "zh-phone", None, None, Tier::Standard, Some(77));
    assert_eq!(offers(&e), vec![(10, 2)]);
    assert_eq!(
        h.r.agent(AgentId(2)).unwrap().last_customers,
        vec![CustomerId(77)]
    );
    // Without sticky routing, agent 3 (idle longest) would take it.
    let mut h = H::new(policy(), phone_queues());
    served_by_2(&mut h);
    let e = h
        .at(100.0)
        .arrive_with(10, "zh-phone", None, None, Tier::Standard, Some(77));
    assert_eq!(offers(&e), vec![(10, 3)]);
}

#[test]
fn sticky_routing_ends_with_its_window() {
    let mut h = H::new(sticky_policy(), phone_queues());
    served_by_2(&mut h);
    let e = h
        .at(5.0 + 3601.0)
        .arrive_with(10, "zh-phone", None, None, Tier::Standard, Some(77));
    assert_eq!(offers(&e), vec![(10, 3)]);
}

#[test]
fn sticky_routing_waits_briefly_for_a_busy_agent() {
    let mut h = H::new(sticky_policy(), phone_queues());
    served_by_2(&mut h);
    h.at(50.0).arrive(20, "zh-phone");
    h.accept(20, 3);
    h.at(51.0).arrive(21, "zh-phone");
    h.accept(21, 2);
    // Agent 2 is busy: the customer waits for it although agent 1 is free.
    let e = h
        .at(60.0)
        .arrive_with(10, "zh-phone", None, None, Tier::Standard, Some(77));
    assert!(
        matches!(e[0].kind, EventKind::StickyHeld { agent: AgentId(2), until, .. } if until == 80 * S)
    );
    assert_eq!(h.holder(10), Some(2));
    assert_eq!(offers(&h.at(70.0).complete(21, 2)), vec![(10, 2)]);

    // If agent 2 stays busy past the wait, anyone eligible takes the contact.
    h.accept(10, 2);
    let e = h
        .at(100.0)
        .arrive_with(11, "zh-phone", None, None, Tier::Standard, Some(77));
    assert!(offers(&e).is_empty());
    assert_eq!(offers(&h.at(120.0).tick()), vec![(11, 1)]);
}

// ---------------------------------------------------------------- reserve

#[test]
fn reserve_keeps_idle_agents_for_vip_contacts() {
    let mut p = policy();
    p.reserve = Some(ReservePolicy {
        idle_agents: 1,
        free_units: 0,
        max_priority: Some(1),
        tiers: vec![Tier::Vip],
    });
    let mut h = H::new(p, phone_queues());
    h.at(0.0).login(1, &general(3), &["zh"]);
    h.login(2, &general(3), &["zh"]);
    assert_eq!(offers(&h.at(1.0).arrive(100, "zh-phone")), vec![(100, 1)]);
    h.accept(100, 1);
    // Taking agent 2 would leave no idle agent: the standard contact waits.
    assert!(offers(&h.at(2.0).arrive(101, "zh-phone")).is_empty());
    // A VIP and a priority-1 contact may use the reserve.
    let e = h
        .at(3.0)
        .arrive_with(102, "zh-phone", None, None, Tier::Vip, None);
    assert_eq!(offers(&e), vec![(102, 2)]);
    h.accept(102, 2);
    // Agent 2 frees up: it is the only idle agent, so it stays in reserve.
    assert!(offers(&h.at(4.0).complete(102, 2)).is_empty());
    let e = h
        .at(5.0)
        .arrive_with(103, "zh-phone", None, Some(1), Tier::Standard, None);
    assert_eq!(offers(&e), vec![(103, 2)]);
    // A third agent logs in: now two are idle... after agent 3 arrives the reserve has slack
    // and the waiting standard contact is served.
    h.at(6.0).complete(100, 1);
    let e = h.at(7.0).login(3, &general(3), &["zh"]);
    assert_eq!(offers(&e).len(), 1);
    assert_eq!(h.state(101), ContactState::Offered);
    // Without a reserve the standard contact would have taken agent 2 at once.
    let mut h = H::new(policy(), phone_queues());
    h.at(0.0).login(1, &general(3), &["zh"]);
    h.login(2, &general(3), &["zh"]);
    h.at(1.0).arrive(100, "zh-phone");
    assert_eq!(offers(&h.at(2.0).arrive(101, "zh-phone")), vec![(101, 2)]);
}

#[test]
fn reserve_keeps_free_units_for_vip_contacts() {
    let mut p = policy();
    p.reserve = Some(ReservePolicy {
        idle_agents: 0,
        free_units: 2,
        max_priority: None,
        tiers: vec![Tier::Vip],
    });
    let mut h = H::new(p, phone_queues());
    h.at(0.0).login(1, &general(3), &["zh"]);
    // 6 units: two standard chats leave 2 units, a third would leave none.
    h.arrive(1, "zh-chat");
    h.arrive(2, "zh-chat");
    assert_eq!(h.holder(2), Some(1));
    assert!(offers(&h.arrive(3, "zh-chat")).is_empty());
    let e = h.arrive_with(4, "zh-chat", None, None, Tier::Vip, None);
    assert_eq!(offers(&e), vec![(4, 1)]);
}

// ---------------------------------------------------------------- offer timeout, wrap-up

#[test]
fn an_ignored_offer_goes_back_to_its_place_and_the_agent_stops_responding() {
    let mut h = H::new(policy(), phone_queues());
    h.at(0.0).login(1, &general(3), &["zh"]);
    h.at(1.0).arrive(100, "zh-phone");
    h.at(2.0).arrive(101, "zh-phone");
    assert_eq!(h.r.next_deadline(), Some(21 * S));
    let e = h.at(25.0).tick();
    assert!(e.iter().any(|e| matches!(
        e.kind,
        EventKind::Requeued {
            reason: RequeueReason::OfferTimeout,
            ..
        }
    ) && e.at == 21 * S));
    assert!(e.iter().any(|e| matches!(
        e.kind,
        EventKind::AgentState {
            state: AgentState::NotResponding,
            ..
        }
    )));
    assert_eq!(
        h.r.agent(AgentId(1)).unwrap().state,
        AgentState::NotResponding
    );
    // An accept after the timeout is refused.
    let r = h.rejected(Command::Accept {
        contact: ContactId(100),
        agent: AgentId(1),
    });
    assert!(matches!(
        r,
        Rejection::ContactNotInState {
            state: ContactState::Queued,
            ..
        }
    ));
    // Contact 100 kept its place ahead of 101.
    assert_eq!(
        offers(&h.at(30.0).login(2, &general(3), &["zh"])),
        vec![(100, 2)]
    );
    // The agent comes back and takes the next one.
    let e = h.ok(Command::SetAvailability {
        agent: AgentId(1),
        availability: Availability::Available,
    });
    assert_eq!(offers(&e), vec![(101, 1)]);
}

#[test]
fn wrap_up_holds_the_agent_until_it_ends() {
    let mut p = policy();
    p.wrap_up.phone = Some(15.0);
    let mut h = H::new(p, phone_queues());
    h.at(0.0).login(1, &general(3), &["zh"]);
    h.arrive(100, "zh-phone");
    h.accept(100, 1);
    h.at(10.0).arrive(101, "zh-phone");
    let e = h.at(20.0).complete(100, 1);
    assert!(matches!(e[0].kind, EventKind::WrapUp { until, .. } if until == 35 * S));
    assert_eq!(h.r.agent(AgentId(1)).unwrap().state, AgentState::WrapUp);
    assert_eq!(h.r.next_deadline(), Some(35 * S));
    assert!(offers(&h.at(34.0).tick()).is_empty());
    let e = h.at(35.0).tick();
    assert!(matches!(e[0].kind, EventKind::Completed { .. }));
    assert_eq!(offers(&e), vec![(101, 1)]);
}

// ---------------------------------------------------------------- transfer, escalation

#[test]
fn transfer_keeps_the_contacts_age() {
    let queues = vec![
        queue("zh-phone", Channel::Phone, "general", "zh", 20.0, 5),
        queue("returns", Channel::Phone, "returns", "zh", 20.0, 5),
    ];
    let mut h = H::new(policy(), queues);
    h.at(0.0).login(1, &general(3), &["zh"]);
    h.login(2, &[("returns", 3)], &["zh"]);
    h.arrive(100, "zh-phone");
    h.accept(100, 1);
    h.arrive(1, "returns");
    h.accept(1, 2);
    h.at(5.0).arrive(101, "returns");
    let e = h.at(10.0).ok(Command::Transfer {
        contact: ContactId(100),
        queue: "returns".into(),
    });
    assert!(matches!(e[0].kind, EventKind::Transferred { .. }));
    assert_eq!(h.state(100), ContactState::Queued);
    // Contact 100 arrived at 0 s, before 101: it goes first in its new queue.
    assert_eq!(offers(&h.at(11.0).complete(1, 2)), vec![(100, 2)]);
    assert_eq!(h.r.contact(ContactId(100)).unwrap().transfers, 1);
}

fn escalating(fallback: Option<f64>) -> RoutingPolicy {
    RoutingPolicy {
        escalation: Some(EscalationPolicy {
            skill: Skill::new("supervisor"),
            priority: 0,
            grace_seconds: 10.0,
            answer_seconds: 60.0,
            fallback_seconds: fallback,
        }),
        ..policy()
    }
}

#[test]
fn contacts_past_their_deadline_escalate_to_supervisors() {
    let mut h = H::new(escalating(None), phone_queues());
    h.at(0.0).login(9, &[("supervisor", 4)], &["zh"]);
    h.arrive(100, "zh-phone");
    assert_eq!(h.state(100), ContactState::Queued);
    // Deadline 20 s + grace 10 s.
    assert_eq!(h.r.next_deadline(), Some(30 * S));
    let e = h.at(31.0).tick();
    let to = h.r.queue_index("zh-phone/escalated").unwrap();
    assert!(matches!(e[0].kind, EventKind::Escalated { to: t, .. } if t == to));
    assert_eq!(e[0].at, 30 * S);
    assert_eq!(offers(&e), vec![(100, 9)]);
    let c = h.r.contact(ContactId(100)).unwrap();
    assert!(c.escalated);
    assert_eq!(
        (c.queue.as_str(), c.priority, c.arrival),
        ("zh-phone/escalated", 0, 0)
    );
    // Without escalation the contact would still be waiting in its own queue.
    let mut h = H::new(policy(), phone_queues());
    h.at(0.0).login(9, &[("supervisor", 4)], &["zh"]);
    h.arrive(100, "zh-phone");
    h.at(31.0).tick();
    assert_eq!(h.r.contact(ContactId(100)).unwrap().queue, "zh-phone");
}

#[test]
fn escalated_contacts_fall_back_to_their_queues_agents() {
    for (fallback, taken) in [(Some(15.0), true), (None, false)] {
        let mut h = H::new(escalating(fallback), phone_queues());
        h.at(0.0).login(1, &general(3), &["zh"]);
        h.arrive(1, "zh-phone");
        h.accept(1, 1);
        h.arrive(100, "zh-phone");
        // Escalated at 30 s; no supervisor is logged in; agent 1 frees up at 40 s.
        h.at(40.0).complete(1, 1);
        assert_eq!(
            h.r.contact(ContactId(100)).unwrap().queue,
            "zh-phone/escalated"
        );
        assert_eq!(h.state(100), ContactState::Queued);
        // The fallback ring opens at 30 + 15 = 45 s.
        let e = h.at(50.0).tick();
        assert_eq!(!offers(&e).is_empty(), taken, "{fallback:?}");
    }
}

// ---------------------------------------------------------------- abandonment, capacity

#[test]
fn abandonment_removes_the_contact_and_frees_an_offer() {
    let mut h = H::new(policy(), phone_queues());
    h.at(0.0).login(1, &general(3), &["zh"]);
    h.arrive(100, "zh-phone");
    h.arrive(101, "zh-phone");
    h.arrive(102, "zh-phone");
    h.at(1.0).ok(Command::Abandon {
        contact: ContactId(101),
    });
    // The offered contact abandons: the agent takes the next, skipping the abandoned one.
    let e = h.at(2.0).ok(Command::Abandon {
        contact: ContactId(100),
    });
    assert_eq!(offers(&e), vec![(102, 1)]);
    assert_eq!(h.state(100), ContactState::Abandoned);
    assert_eq!(h.r.queue_stats()[0].waiting, 0);
}

#[test]
fn capacity_units_allow_several_chats_but_not_a_call_beside_them() {
    let mut h = H::new(policy(), phone_queues());
    h.at(0.0).login(1, &general(3), &["zh"]);
    for id in 1..=4 {
        h.arrive(id, "zh-chat");
    }
    assert_eq!(h.r.agent(AgentId(1)).unwrap().contacts.len(), 3);
    assert_eq!(h.state(4), ContactState::Queued);
    h.arrive(10, "zh-phone");
    h.login(2, &general(3), &["zh"]);
    // Agent 2 takes the oldest waiting contact (chat 4); the call waits for a whole agent.
    assert_eq!(h.holder(4), Some(2));
    assert_eq!(h.state(10), ContactState::Queued);
    for id in 1..=3 {
        h.accept(id, 1);
    }
    for id in 1..=2 {
        h.complete(id, 1);
    }
    assert_eq!(h.state(10), ContactState::Queued);
    assert_eq!(offers(&h.complete(3, 1)), vec![(10, 1)]);
}

// ---------------------------------------------------------------- logout, break

#[test]
fn logout_mid_contact_requeues_at_the_original_position() {
    let mut p = policy();
    p.wrap_up.chat = Some(30.0);
    let mut h = H::new(p, phone_queues());
    h.at(0.0).login(1, &general(3), &["zh"]);
    for id in 1..=3 {
        h.arrive(id, "zh-chat");
        h.accept(id, 1);
    }
    h.at(1.0).arrive(4, "zh-chat");
    h.at(2.0).complete(3, 1);
    let e = h.at(3.0).ok(Command::Logout { agent: AgentId(1) });
    assert_eq!(h.state(3), ContactState::Completed, "wrap-up completes");
    assert_eq!(
        e.iter()
            .filter(|e| matches!(
                e.kind,
                EventKind::Requeued {
                    reason: RequeueReason::AgentLoggedOut,
                    ..
                }
            ))
            .count(),
        2
    );
    // Contacts 1 and 2 arrived before 4 and go first.
    h.at(4.0).login(2, &general(3), &["zh"]);
    let held = h.r.agent(AgentId(2)).unwrap().contacts;
    assert_eq!(held, vec![ContactId(1), ContactId(2), ContactId(4)]);
    let r = h.rejected(Command::Logout { agent: AgentId(1) });
    assert!(matches!(r, Rejection::UnknownAgent { .. }));
}

#[test]
fn break_stops_new_offers_but_not_current_work() {
    let mut h = H::new(policy(), phone_queues());
    h.at(0.0).login(1, &general(3), &["zh"]);
    h.arrive(1, "zh-phone");
    h.accept(1, 1);
    h.at(1.0).ok(Command::SetAvailability {
        agent: AgentId(1),
        availability: Availability::Break,
    });
    assert_eq!(h.r.agent(AgentId(1)).unwrap().state, AgentState::Break);
    h.arrive(2, "zh-phone");
    assert!(offers(&h.at(2.0).complete(1, 1)).is_empty());
    let e = h.at(3.0).ok(Command::SetAvailability {
        agent: AgentId(1),
        availability: Availability::Available,
    });
    assert_eq!(offers(&e), vec![(2, 1)]);
}

// ---------------------------------------------------------------- rejections

#[test]
fn nonsense_commands_are_rejected_and_change_nothing() {
    let mut h = H::new(policy(), phone_queues());
    h.at(0.0).login(1, &general(3), &["zh"]);
    h.login(2, &general(3), &["zh"]);
    h.at(1.0).arrive(100, "zh-phone");
    h.at(10.0);
    let c = ContactId(100);
    let reasons = [
        h.rejected(Command::Arrive {
            contact: c,
            queue: "zh-phone".into(),
            language: None,
            priority: None,
            tier: Tier::Standard,
            customer: None,
        }),
        h.rejected(Command::Accept {
            contact: c,
            agent: AgentId(2),
        }),
        h.rejected(Command::Complete {
            contact: c,
            agent: AgentId(1),
        }),
        h.rejected(Command::Complete {
            contact: ContactId(555),
            agent: AgentId(1),
        }),
        h.rejected(Command::Accept {
            contact: c,
            agent: AgentId(42),
        }),
        h.rejected(Command::Arrive {
            contact: ContactId(7),
            queue: "nope".into(),
            language: None,
            priority: None,
            tier: Tier::Standard,
            customer: None,
        }),
        h.rejected(Command::Arrive {
            contact: ContactId(7),
            queue: "zh-phone".into(),
            language: Some(Language::new("fr")),
            priority: None,
            tier: Tier::Standard,
            customer: None,
        }),
        h.rejected(Command::Arrive {
            contact: ContactId(7),
            queue: "zh-phone".into(),
            language: None,
            priority: Some(10),
            tier: Tier::Standard,
            customer: None,
        }),
        h.rejected(Command::Login {
            agent: AgentId(1),
            skills: vec![],
            languages: vec![],
            capacity: None,
        }),
        h.rejected(Command::Login {
            agent: AgentId(3),
            skills: vec![SkillLevel {
                skill: Skill::new("juggling"),
                proficiency: Proficiency::new(3).unwrap(),
            }],
            languages: vec![Language::new("zh")],
            capacity: None,
        }),
        h.rejected(Command::Transfer {
            contact: c,
            queue: "zh-phone".into(),
        }),
    ];
    let kinds: Vec<&str> = reasons
        .iter()
        .map(|r| match r {
            Rejection::DuplicateContact { .. } => "duplicate",
            Rejection::WrongAgent { .. } => "wrong-agent",
            Rejection::ContactNotInState { .. } => "state",
            Rejection::UnknownContact { .. } => "unknown-contact",
            Rejection::UnknownAgent { .. } => "unknown-agent",
            Rejection::UnknownQueue { .. } => "unknown-queue",
            Rejection::UnknownLanguage { .. } => "unknown-language",
            Rejection::PriorityOutOfRange { .. } => "priority",
            Rejection::AlreadyLoggedIn { .. } => "logged-in",
            Rejection::UnknownSkill { .. } => "unknown-skill",
            Rejection::SameQueue { .. } => "same-queue",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "duplicate",
            "wrong-agent",
            "state",
            "unknown-contact",
            "unknown-agent",
            "unknown-queue",
            "unknown-language",
            "priority",
            "logged-in",
            "unknown-skill",
            "same-queue"
        ]
    );
    h.accept(100, 1);
    h.rejected(Command::Abandon { contact: c });
    h.complete(100, 1);
    assert!(matches!(
        h.rejected(Command::Complete {
            contact: c,
            agent: AgentId(1)
        }),
        Rejection::ContactNotInState {
            state: ContactState::Completed,
            ..
        }
    ));
    // Time going backwards.
    let mut out = Vec::new();
    let r = h.r.apply_into(Command::Tick, 5 * S, &mut out).unwrap_err();
    assert_eq!(
        r,
        Rejection::TimeWentBackwards {
            now: 5 * S,
            last: 10 * S
        }
    );
    // `apply` reports a rejection as an event.
    let e = h.r.apply(Command::Logout { agent: AgentId(9) }, 10 * S);
    assert!(matches!(
        e[0].kind,
        EventKind::Rejected {
            reason: Rejection::UnknownAgent { .. }
        }
    ));
}

// ---------------------------------------------------------------- driving

#[test]
fn commands_and_events_round_trip_through_json() {
    let mut h = H::new(sticky_policy(), phone_queues());
    let commands = vec![
        Command::Login {
            agent: AgentId(1),
            skills: vec![SkillLevel {
                skill: Skill::new("general"),
                proficiency: Proficiency::new(4).unwrap(),
            }],
            languages: vec![Language::new("zh")],
            capacity: Some(AgentCapacity {
                units: Some(6),
                max: [(Channel::Chat, 3), (Channel::Phone, 1)]
                    .into_iter()
                    .collect(),
            }),
        },
        Command::Arrive {
            contact: ContactId(5),
            queue: "zh-chat".into(),
            language: Some(Language::new("zh")),
            priority: Some(2),
            tier: Tier::Vip,
            customer: Some(CustomerId(9)),
        },
        Command::Accept {
            contact: ContactId(5),
            agent: AgentId(1),
        },
        Command::SetAvailability {
            agent: AgentId(1),
            availability: Availability::Break,
        },
        Command::Tick,
    ];
    let mut events = Vec::new();
    for c in commands {
        let json = serde_json::to_string(&c).unwrap();
        let back: Command = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c, "{json}");
        events.extend(h.ok(back));
    }
    let minimal: Command =
        serde_json::from_str(r#"{"type":"arrive","contact":6,"queue":"zh-phone"}"#).unwrap();
    assert!(matches!(
        minimal,
        Command::Arrive {
            tier: Tier::Standard,
            ..
        }
    ));
    assert!(serde_json::from_str::<Command>(r#"{"type":"logout","agent":1,"extra":1}"#).is_err());
    for e in events {
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.starts_with(r#"{"at":"#), "{json}");
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), e, "{json}");
    }
    let r = serde_json::to_string(&Rejection::UnknownContact {
        contact: ContactId(3),
    })
    .unwrap();
    assert_eq!(r, r#"{"kind":"unknown-contact","contact":3}"#);
}

#[test]
fn reset_behaves_like_a_new_router() {
    let run = |r: &mut Router| {
        let mut out = Vec::new();
        let mut all = Vec::new();
        let skills = vec![SkillLevel {
            skill: Skill::new("general"),
            proficiency: Proficiency::new(3).unwrap(),
        }];
        r.apply_into(
            Command::Login {
                agent: AgentId(1),
                skills,
                languages: vec![Language::new("zh"), Language::new("en")],
                capacity: None,
            },
            0,
            &mut out,
        )
        .unwrap();
        for i in 0..5u64 {
            r.apply_into(
                Command::Arrive {
                    contact: ContactId(i),
                    queue: "zh-chat".into(),
                    // A language other than the queue's makes a lane on the fly.
                    language: Some(Language::new(if i % 2 == 0 { "zh" } else { "en" })),
                    priority: None,
                    tier: Tier::Standard,
                    customer: None,
                },
                i * S,
                &mut out,
            )
            .unwrap();
        }
        r.apply_into(Command::Tick, 100 * S, &mut out).unwrap();
        all.append(&mut out);
        (all, r.state_digest())
    };
    let mut fresh = H::new(policy(), phone_queues()).r;
    let pristine = fresh.clone();
    let first = run(&mut fresh);
    fresh.reset();
    assert_eq!(fresh.state_digest(), pristine.state_digest());
    assert_eq!(run(&mut fresh), first);
    assert_eq!(run(&mut pristine.clone()), first);
    fresh.check_invariants().unwrap();
}

#[test]
fn a_language_other_than_the_queues_is_routed_in_its_own_lane() {
    let mut h = H::new(policy(), phone_queues());
    h.at(0.0).login(1, &general(3), &["zh"]);
    h.login(2, &general(3), &["en"]);
    h.arrive_with(100, "zh-phone", Some("en"), None, Tier::Standard, None);
    assert_eq!(h.holder(100), Some(2));
    let v = h.r.contact(ContactId(100)).unwrap();
    assert_eq!(v.language.as_str(), "en");
}

#[test]
fn queue_stats_report_waiting_and_longest_wait() {
    let mut h = H::new(policy(), phone_queues());
    h.at(1.0).arrive(1, "zh-phone");
    h.at(4.0).arrive(2, "zh-phone");
    h.at(10.0).tick();
    let stats = h.r.queue_stats();
    assert_eq!(stats[0].waiting, 2);
    assert_eq!(stats[0].longest_wait, Some(9 * S));
    assert_eq!(stats[1].longest_wait, None);
    h.login(1, &general(3), &["zh"]);
    let counts = h.r.agent_state_counts();
    assert!(counts.contains(&(AgentState::Busy, 1)));
}
