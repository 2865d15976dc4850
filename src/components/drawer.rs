//! Draws each new request's attributes for a source or population: its class (from class
//! shares), intent and token counts, the item key it is about (Zipf, or the viral key during a
//! burst) and, for a source spread over users, its user. Each attribute has its own random
//! stream, so adding one changes none of the others (nor the arrivals).

use rand::RngExt;
use rand_distr::{Distribution, Zipf};

use crate::engine::{SimRng, SimTime, stream};
use crate::model::Draws;
use crate::model::workload::{IntentDef, KeySpaceDef};
use crate::sim::Attrs;

/// A running drawer.
pub struct Drawer {
    classes: Option<(Vec<f64>, SimRng)>,
    /// Cumulative intent shares and their token laws.
    intents: Option<(Vec<f64>, Vec<IntentDef>, SimRng, SimRng)>,
    keys: Option<(Zipf<f64>, KeySpaceDef, SimRng, u16)>,
    users: Option<(u32, u32, SimRng)>,
}

impl Drawer {
    /// A drawer for the block called `name`, drawing what `draws` asks and the model's intents.
    pub fn new(seed: u64, name: &str, draws: &Draws, intents: &[IntentDef], keys: &[KeySpaceDef]) -> Drawer {
        let rng = |purpose: &str| stream(seed, name, purpose);
        let intents = (!intents.is_empty()).then(|| {
            let mut acc = 0.0;
            let cum = intents
                .iter()
                .enumerate()
                .map(|(k, i)| match draws.intent {
                    // One intent: every draw lands on it (the stream is drawn all the same).
                    Some(only) => f64::from(u8::from(k >= only as usize)),
                    None => {
                        acc += i.share;
                        acc
                    }
                })
                .collect();
            (cum, intents.to_vec(), rng("intent"), rng("tokens"))
        });
        let keys = draws.keys.map(|k| {
            let def = keys[k as usize].clone();
            let law = Zipf::new(def.count as f64, def.zipf).unwrap_or_else(|_| Zipf::new(1.0, 0.0).expect("valid"));
            (law, def, rng("key"), k as u16)
        });
        Drawer {
            classes: draws.class_cumulative.clone().map(|c| (c, rng("class"))),
            intents,
            keys,
            users: draws.users.map(|(n, first)| (n, first, rng("user"))),
        }
    }

    /// Whether it draws nothing (the common fast path).
    pub fn is_empty(&self) -> bool {
        self.classes.is_none() && self.intents.is_none() && self.keys.is_none() && self.users.is_none()
    }

    /// The class of a new request (`fixed` unless class shares are given).
    #[inline]
    pub fn class(&mut self, fixed: u16) -> u16 {
        match &mut self.classes {
            Some((cum, rng)) => pick(cum, rng.random()) as u16,
            None => fixed,
        }
    }

    /// Fills `a` with the intent, tokens, key and user of a request born at `now`.
    pub fn fill(&mut self, now: SimTime, a: &mut Attrs) {
        if let Some((cum, defs, rng, tokens)) = &mut self.intents {
            let i = pick(cum, rng.random());
            a.intent = i as u16;
            let count = |d: &Option<crate::model::Dist>, r: &mut SimRng| d.as_ref().map_or(0, |d| d.tokens(r));
            a.tokens_in = count(&defs[i].tokens_in, tokens);
            a.tokens_out = count(&defs[i].tokens_out, tokens);
        }
        if let Some((law, def, rng, space)) = &mut self.keys {
            a.space = *space;
            let burst = def.bursts.iter().find(|b| b.0 <= now && now < b.1);
            a.key = match burst {
                // One draw decides the burst; a second picks the key only for a series (n > 1),
                // so single-key bursts keep their random stream.
                Some(&(_, _, share, key, n)) if rng.random::<f64>() < share => {
                    if n > 1 {
                        key + rng.random_range(0..n)
                    } else {
                        key
                    }
                }
                _ => (law.sample(rng) as u32).saturating_sub(1),
            };
        }
        if let Some((n, first, rng)) = &mut self.users {
            a.user = *first + rng.random_range(0..*n);
        }
    }
}

/// The index whose cumulative share first exceeds `u`.
fn pick(cum: &[f64], u: f64) -> usize {
    cum.partition_point(|&c| c <= u).min(cum.len() - 1)
}
