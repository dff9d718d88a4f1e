//! Behavioral features (`command_entropy` is in `command.rs`).

use std::net::IpAddr;

use super::{
    Out, Session, Window, combine, distinct, entropy_bits, hash, hash_ip, is_internal, ln1p,
    mean_std, runs, url_path,
};
use crate::EventKind;
use crate::schema::F;

/// Upper edges (seconds) of the first 7 of the 8 gap bins.
const GAP_BINS: [f64; 7] = [0.1, 1.0, 10.0, 60.0, 600.0, 3600.0, 86_400.0];

pub(super) fn fill(w: &Window<'_>, out: &mut Out) {
    if w.gaps.len() >= 2 {
        let (mean, std) = mean_std(&w.gaps);
        if mean > 0.0 {
            out.set(F::timing_regularity, 1.0 / (1.0 + std / mean));
        }
    }
    if !w.gaps.is_empty() {
        let mut bins = [0usize; GAP_BINS.len() + 1];
        for g in &w.gaps {
            bins[GAP_BINS.partition_point(|edge| edge <= g)] += 1;
        }
        out.set(F::inter_event_time_entropy, entropy_bits(bins.into_iter(), w.gaps.len()) / 3.0);
    }
    sessions(&w.sessions, out);
    resources(w, out);
    destinations(w, out);
}

fn sessions(s: &[Session], out: &mut Out) {
    if !s.is_empty() {
        let mut signatures: Vec<u64> = s.iter().map(|x| x.signature).collect();
        signatures.sort_unstable();
        let most = runs(&signatures).max().unwrap_or(0);
        out.set(F::behavioral_consistency, most as f64 / s.len() as f64);
    }
    if s.len() >= 2 {
        let durations: Vec<f64> = s.iter().map(Session::duration).collect();
        let (_, std) = mean_std(&durations);
        out.set(F::session_duration_variance, ln1p(std * std));
    }
}

fn resources(w: &Window<'_>, out: &mut Out) {
    // Each resource type gets its own tag so a path and a command never coincide.
    let mut keys: Vec<u64> = Vec::new();
    for e in &w.ev {
        let key = match e.kind {
            EventKind::Command => e
                .command
                .as_deref()
                .and_then(|c| c.split_whitespace().next())
                .map(|p| combine(1, hash(p))),
            EventKind::FileDownload | EventKind::FileUpload => {
                e.url.as_deref().map(|u| combine(2, hash(u)))
            }
            EventKind::ForwardRequest | EventKind::ForwardData => {
                let target =
                    e.dst_ip.map_or_else(|| hash(e.dst_host.as_deref().unwrap_or("")), hash_ip);
                Some(combine(combine(3, target), u64::from(e.dst_port.unwrap_or(0))))
            }
            _ if super::http::is_request(e) => {
                e.url.as_deref().map(|u| combine(4, hash(url_path(u))))
            }
            _ => None,
        };
        keys.extend(key);
    }
    out.set(F::resource_access_diversity, ln1p(distinct(&mut keys) as f64));
}

fn destinations(w: &Window<'_>, out: &mut Out) {
    let mut own: Vec<IpAddr> =
        w.ev.iter()
            .filter(|e| e.kind == EventKind::SessionConnect)
            .filter_map(|e| e.dst_ip)
            .collect();
    own.sort_unstable();
    let mut internal: Vec<IpAddr> =
        w.ev.iter()
            .filter(|e| e.kind != EventKind::SessionConnect)
            .filter_map(|e| e.dst_ip)
            .filter(|ip| is_internal(*ip) && own.binary_search(ip).is_err())
            .collect();
    out.set(F::lateral_movement_score, ln1p(distinct(&mut internal) as f64));
    let t = &w.tally;
    out.set(F::data_exfiltration_score, ln1p(f64::max(0.0, t.public_out - t.public_in) / 1024.0));
}
