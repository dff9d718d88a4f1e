//! Threat-intel features: lookups of the entity, the window's destinations and the domains
//! in its URLs in the feed snapshot.

use super::{Out, Window, ln1p, span_secs, url_host};
use crate::intel::Feeds;
use crate::parse::value::parse_ip;
use crate::schema::F;

pub(super) fn fill(w: &Window<'_>, feeds: &Feeds, out: &mut Out) {
    out.set(F::domain_age_days, -1.0);
    let (Some(entity), Some(&t_end)) = (w.entity, w.us.last()) else {
        return;
    };
    out.set(F::ip_reputation, feeds.reputation.score(entity).map_or(0.0, |s| f64::from(s) / 100.0));
    out.set(F::tor_exit_node, f64::from(u8::from(feeds.tor_exits.contains(entity))));
    out.set(F::asn_reputation, feeds.asn_score(entity).map_or(0.0, f64::from));
    out.set(F::threat_intel_matches, feeds.matches(entity) as f64);

    let mut c2 = feeds.c2.contains(entity);
    let mut youngest: Option<f64> = None;
    for e in &w.ev {
        c2 |= e.dst_ip.is_some_and(|ip| feeds.c2.contains(ip));
        let url_host = e.url.as_deref().and_then(url_host);
        for host in [url_host, e.dst_host.as_deref()].into_iter().flatten() {
            if let Some(ip) = parse_ip(host) {
                c2 |= feeds.c2.contains(ip);
            } else if let Some(created) = feeds.domain_ages.created(host) {
                let days = (span_secs(created.as_micros(), t_end) / 86_400.0).max(0.0);
                youngest = Some(youngest.map_or(days, |y| y.min(days)));
            }
        }
    }
    out.set(F::known_c2, f64::from(u8::from(c2)));
    if let Some(days) = youngest {
        out.set(F::domain_age_days, ln1p(days));
    }
}
