//! Structural checks on the block graph: fork branches reach their own join, and no cycle
//! can be traversed in zero simulated time.

use super::Checker;
use crate::model::{BlockDef, RouterDef, Target};

/// Where a request at block `b` can go next (for forks: the join's exit, as seen by the parent).
fn successors(blocks: &[Option<BlockDef>], b: usize) -> Vec<Target> {
    match &blocks[b] {
        Some(BlockDef::Station(s)) => vec![s.to],
        Some(BlockDef::Delay { to, .. }) | Some(BlockDef::Join { to }) => vec![*to],
        Some(BlockDef::Router(RouterDef::Probability { targets, .. })) => targets.clone(),
        Some(BlockDef::Router(RouterDef::Class { by_class })) => by_class.clone(),
        Some(BlockDef::Fork { join, .. }) => successors(blocks, *join as usize),
        None => vec![],
    }
}

impl Checker {
    /// Every path from a fork's branch must reach that fork's join, and no other join or the end.
    pub(super) fn check_forks(&mut self, blocks: &[Option<BlockDef>], names: &[String]) {
        for (f, block) in blocks.iter().enumerate() {
            let Some(BlockDef::Fork { branches, join }) = block else {
                continue;
            };
            let mut seen = vec![false; blocks.len()];
            let mut stack: Vec<Target> = branches.clone();
            while let Some(t) = stack.pop() {
                let Some(b) = t.block() else {
                    let msg = format!("a branch can reach the end without passing join `{}`", names[*join as usize]);
                    self.issue(format!("forks.{}.branches", names[f]), msg);
                    break;
                };
                if b == *join as usize || std::mem::replace(&mut seen[b], true) {
                    continue;
                }
                if let Some(BlockDef::Join { .. }) = &blocks[b] {
                    let msg = format!(
                        "a branch reaches join `{}` instead of its own join `{}`",
                        names[b], names[*join as usize]
                    );
                    self.issue(format!("forks.{}.branches", names[f]), msg);
                    break;
                }
                stack.extend(successors(blocks, b));
            }
        }
    }

    /// Routers, forks and joins take no time; a cycle made only of them would never advance.
    pub(super) fn check_instant_cycles(&mut self, blocks: &[Option<BlockDef>], names: &[String]) {
        let instant =
            |b: usize| matches!(blocks[b], Some(BlockDef::Router(_) | BlockDef::Fork { .. } | BlockDef::Join { .. }));
        // 0 = unvisited, 1 = on the stack, 2 = done.
        let mut state = vec![0u8; blocks.len()];
        for start in (0..blocks.len()).filter(|&b| instant(b)) {
            if let Some(b) = self.cycle_from(start, blocks, &instant, &mut state) {
                let msg = "this block lies on a cycle of routers, forks and joins that takes no simulated time";
                let kind = match blocks[b] {
                    Some(BlockDef::Router(_)) => "routers",
                    Some(BlockDef::Fork { .. }) => "forks",
                    _ => "joins",
                };
                self.issue(format!("{kind}.{}", names[b]), msg);
                return;
            }
        }
    }

    fn cycle_from(
        &self,
        b: usize,
        blocks: &[Option<BlockDef>],
        instant: &dyn Fn(usize) -> bool,
        state: &mut [u8],
    ) -> Option<usize> {
        match state[b] {
            1 => return Some(b),
            2 => return None,
            _ => {}
        }
        state[b] = 1;
        let mut next: Vec<usize> = successors(blocks, b).into_iter().filter_map(Target::block).collect();
        if let Some(BlockDef::Fork { branches, .. }) = &blocks[b] {
            next.extend(branches.iter().filter_map(|t| t.block()));
        }
        for n in next.into_iter().filter(|&n| instant(n)) {
            if let Some(c) = self.cycle_from(n, blocks, instant, state) {
                return Some(c);
            }
        }
        state[b] = 2;
        None
    }
}
