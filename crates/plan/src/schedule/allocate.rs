//! Splitting each group's on-duty agents over the queues it serves, for a fixed set of shifts.
//!
//! With one understaffing price for every queue, the best split in an interval is a maximum flow
//! from groups (capacity: agents on duty) to queue classes (capacity: requirement); agents the
//! flow leaves unused are idle and are reported as overstaffing of the group's classes, in
//! proportion to their requirement. So once shifts and breaks are integral, constraints (1)–(2)
//! of the model are solved exactly here, interval by interval, instead of by the LP.

/// Maximum flow in a bipartite graph: `supply[g]` into group g, `demand[c]` out of class c,
/// and `edges[g]` the classes group g may send to. Returns flow[g][k] along `edges[g][k]`.
pub fn max_flow(supply: &[f64], demand: &[f64], edges: &[Vec<usize>]) -> Vec<Vec<f64>> {
    let groups = supply.len();
    let classes = demand.len();
    let mut flow: Vec<Vec<f64>> = edges.iter().map(|e| vec![0.0; e.len()]).collect();
    let mut left = supply.to_vec();
    let mut room = demand.to_vec();
    const EPS: f64 = 1e-9;
    loop {
        // BFS over the residual graph: group → class along any edge, class → group back along
        // an edge carrying flow. Start from groups with supply left, stop at a class with room.
        let mut from_group: Vec<Option<(usize, usize)>> = vec![None; classes];
        let mut seen_group = vec![false; groups];
        let mut queue: std::collections::VecDeque<usize> = (0..groups)
            .filter(|&g| left[g] > EPS)
            .inspect(|&g| seen_group[g] = true)
            .collect();
        let mut reached = None;
        let mut back: Vec<Option<(usize, usize)>> = vec![None; groups];
        'search: while let Some(g) = queue.pop_front() {
            for (k, &c) in edges[g].iter().enumerate() {
                if from_group[c].is_some() || demand[c] <= EPS {
                    continue;
                }
                from_group[c] = Some((g, k));
                if room[c] > EPS {
                    reached = Some(c);
                    break 'search;
                }
                for (g2, e2) in edges.iter().enumerate() {
                    if seen_group[g2] {
                        continue;
                    }
                    if let Some(k2) = e2.iter().position(|&c2| c2 == c) {
                        if flow[g2][k2] > EPS {
                            seen_group[g2] = true;
                            back[g2] = Some((c, k2));
                            queue.push_back(g2);
                        }
                    }
                }
            }
        }
        let Some(end) = reached else {
            return flow;
        };
        // Bottleneck along the path, then push.
        let mut amount = room[end];
        let mut c = end;
        loop {
            let (g, k) = from_group[c].expect("on the path");
            let _ = k;
            match back[g] {
                Some((prev_c, k2)) => {
                    amount = amount.min(flow[g][k2]);
                    c = prev_c;
                }
                None => {
                    amount = amount.min(left[g]);
                    break;
                }
            }
        }
        let mut c = end;
        room[end] -= amount;
        loop {
            let (g, k) = from_group[c].expect("on the path");
            flow[g][k] += amount;
            match back[g] {
                Some((prev_c, k2)) => {
                    flow[g][k2] -= amount;
                    c = prev_c;
                }
                None => {
                    left[g] -= amount;
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reroutes_to_reach_the_maximum() {
        // Group 0 serves classes 0 and 1, group 1 only class 0. Greedy 0→0 would leave class 1
        // short; the maximum sends group 1 to class 0 and group 0 to class 1.
        let flow = max_flow(&[2.0, 2.0], &[2.0, 2.0], &[vec![0, 1], vec![0]]);
        let total: f64 = flow.iter().flatten().sum();
        assert!((total - 4.0).abs() < 1e-9, "{flow:?}");
        assert!((flow[0][1] - 2.0).abs() < 1e-9);
        assert!((flow[1][0] - 2.0).abs() < 1e-9);
    }

    #[test]
    fn never_exceeds_supply_or_demand() {
        let flow = max_flow(&[5.0, 1.5], &[3.0, 0.0, 1.0], &[vec![0, 1], vec![0, 2]]);
        assert!(flow[0].iter().sum::<f64>() <= 5.0 + 1e-9);
        assert!(flow[1].iter().sum::<f64>() <= 1.5 + 1e-9);
        assert!(flow[0][0] + flow[1][0] <= 3.0 + 1e-9);
        assert_eq!(flow[0][1], 0.0);
        let total: f64 = flow.iter().flatten().sum();
        assert!((total - 4.0).abs() < 1e-9, "{flow:?}");
    }
}
