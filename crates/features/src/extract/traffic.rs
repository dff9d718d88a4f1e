//! Port, protocol and network features.

use super::{Out, Window, entropy_bits, ln1p, mean_std, runs, share};
use crate::schema::F;
use crate::{AppProto, EventKind, Transport};

const COMMON_PORTS: [u16; 18] =
    [21, 22, 23, 25, 53, 80, 110, 143, 443, 445, 993, 995, 1433, 3306, 3389, 5432, 5900, 8080];

pub(super) fn fill(w: &Window<'_>, out: &mut Out) {
    ports(w, out);
    protocols(w, out);
    network(w, out);
}

fn ports(w: &Window<'_>, out: &mut Out) {
    let (dst, src) = (&w.tally.dst_ports, &w.tally.src_ports);
    let mut distinct_dst: Vec<u16> = dst.clone();
    distinct_dst.dedup();
    out.set(F::unique_dst_ports, ln1p(distinct_dst.len() as f64));
    out.set(F::unique_src_ports, ln1p(runs(src).count() as f64));
    out.set(F::dst_port_diversity, share(distinct_dst.len(), dst.len()));
    out.set(F::dst_port_entropy, entropy_bits(runs(dst), dst.len()));
    out.set(
        F::common_port_fraction,
        share(dst.iter().filter(|p| COMMON_PORTS.contains(p)).count(), dst.len()),
    );
    out.set(F::high_port_fraction, share(dst.iter().filter(|&&p| p >= 49152).count(), dst.len()));
    out.set(F::low_src_port_fraction, share(src.iter().filter(|&&p| p < 1024).count(), src.len()));
    let steps = distinct_dst.windows(2).filter(|p| p[1] - p[0] == 1).count();
    out.set(F::sequential_port_fraction, share(steps, distinct_dst.len().saturating_sub(1)));
}

fn protocols(w: &Window<'_>, out: &mut Out) {
    let (n, t) = (w.n(), &w.tally);
    out.set(F::tcp_fraction, share(t.transports[Transport::Tcp as usize], n));
    out.set(F::udp_fraction, share(t.transports[Transport::Udp as usize], n));
    out.set(F::icmp_fraction, share(t.transports[Transport::Icmp as usize], n));
    out.set(F::ssh_fraction, share(t.apps[AppProto::Ssh as usize], n));
    out.set(F::http_fraction, share(t.apps[AppProto::Http as usize], n));
    let known = t
        .apps
        .iter()
        .enumerate()
        .filter(|&(i, &c)| i != AppProto::Unknown as usize && c > 0)
        .count();
    out.set(F::protocol_diversity, known as f64);
}

fn network(w: &Window<'_>, out: &mut Out) {
    let t = &w.tally;
    out.set(F::bytes_out, ln1p(t.bytes_out));
    out.set(F::bytes_in, ln1p(t.bytes_in));
    if t.bytes_out + t.bytes_in > 0.0 {
        out.set(F::bytes_out_ratio, t.bytes_out / (t.bytes_out + t.bytes_in));
    }

    let s = &w.sessions;
    out.set(F::session_count, ln1p(s.len() as f64));
    let durations: Vec<f64> = s.iter().map(super::Session::duration).collect();
    out.set(F::mean_session_duration, ln1p(mean_std(&durations).0));
    out.set(F::empty_session_fraction, share(s.iter().filter(|x| !x.active).count(), s.len()));
    // Sweep over session intervals [first, max(last, first + duration)]; at equal times
    // openings come before closings, so touching sessions count as concurrent.
    let mut edges: Vec<(i128, i8)> = Vec::with_capacity(2 * s.len());
    for x in s {
        let end = i128::from(x.last)
            .max(i128::from(x.first).saturating_add((x.closed.unwrap_or(0.0) * 1e6) as i128));
        edges.push((i128::from(x.first), -1));
        edges.push((end, 1));
    }
    edges.sort_unstable();
    let (mut open, mut most) = (0i64, 0i64);
    for (_, delta) in edges {
        open -= i64::from(delta);
        most = most.max(open);
    }
    out.set(F::max_concurrent_sessions, ln1p(most as f64));

    out.set(F::forward_request_count, ln1p(t.kind(EventKind::ForwardRequest) as f64));
    let alerts = t.kind(EventKind::IdsAlert);
    out.set(F::ids_alert_count, ln1p(alerts as f64));
    if alerts > 0 {
        let severity =
            w.ev.iter()
                .filter(|e| e.kind == EventKind::IdsAlert)
                .map(|e| 1.0 / f64::from(e.severity.unwrap_or(3).max(1)))
                .fold(0.0, f64::max);
        out.set(F::alert_severity_max, severity);
    }
}
