//! Fork and join bookkeeping: a parent waits while its children travel their branches; when
//! the last child returns, the parent continues (or is rejected, if any child was).

use crate::engine::ReqId;
use crate::sim::{Ctx, Origin, Request};

/// Creates one child of `parent`, of the same class, born now.
#[inline]
pub fn spawn_child(ctx: &mut Ctx, parent: ReqId) -> Option<ReqId> {
    let p = ctx.reqs.get_mut(parent)?;
    p.pending += 1;
    let class = p.class;
    Some(ctx.reqs.insert(Request::new(ctx.now, class, Origin::Child { parent })))
}

/// Child `child` of `parent` is back (at the join, or rejected on its branch). Returns
/// `Some(failed)` when it was the last child, with whether any child was rejected.
#[inline]
pub fn child_returns(ctx: &mut Ctx, parent: ReqId, child: ReqId, rejected: bool) -> Option<bool> {
    ctx.reqs.remove(child);
    let p = ctx.reqs.get_mut(parent)?;
    p.failed |= rejected;
    p.pending -= 1;
    (p.pending == 0).then_some(p.failed)
}
