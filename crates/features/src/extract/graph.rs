//! Graph features over the window's destination graph: nodes are destinations (dst_ip,
//! else dst_host); a transition a → b links consecutive destination-bearing events to
//! different destinations less than 60 s apart.

use super::{Out, Window, entropy_bits, hash, hash_ip, ln1p};
use crate::schema::F;

const LINK_WINDOW_US: i128 = 60_000_000;

pub(super) fn fill(w: &Window<'_>, out: &mut Out) {
    // (destination key, time) in canonical order.
    let visits: Vec<(u64, i64)> =
        w.ev.iter()
            .zip(&w.us)
            .filter_map(|(e, &t)| {
                let key = match (e.dst_ip, e.dst_host.as_deref()) {
                    (Some(ip), _) => hash_ip(ip),
                    (None, Some(host)) if host.bytes().any(|b| b.is_ascii_uppercase()) => {
                        hash(&host.to_ascii_lowercase())
                    }
                    (None, Some(host)) => hash(host),
                    (None, None) => return None,
                };
                Some((key, t))
            })
            .collect();
    let mut nodes: Vec<u64> = visits.iter().map(|v| v.0).collect();
    nodes.sort_unstable();
    nodes.dedup();
    let n = nodes.len();
    out.set(F::unique_destinations, ln1p(n as f64));
    if n == 0 {
        out.set(F::isolation, 1.0);
        return;
    }
    let id = |key: u64| nodes.binary_search(&key).unwrap_or(0) as u32;
    let ids: Vec<u32> = visits.iter().map(|v| id(v.0)).collect();

    let mut visits_per_node = vec![0usize; n];
    for &i in &ids {
        visits_per_node[i as usize] += 1;
    }
    if n >= 2 {
        let h = entropy_bits(visits_per_node.iter().copied(), ids.len());
        out.set(F::communication_pattern_entropy, h / (n as f64).log2());
    }

    let mut directed: Vec<(u32, u32)> = ids
        .windows(2)
        .zip(visits.windows(2))
        .filter(|(p, v)| p[0] != p[1] && i128::from(v[1].1) - i128::from(v[0].1) < LINK_WINDOW_US)
        .map(|(p, _)| (p[0], p[1]))
        .collect();
    directed.sort_unstable();
    directed.dedup();
    let both =
        directed.iter().filter(|&&(a, b)| a < b && directed.binary_search(&(b, a)).is_ok()).count();
    out.set(F::bidirectional_pairs, ln1p(both as f64));

    let mut edges: Vec<(u32, u32)> = directed.iter().map(|&(a, b)| (a.min(b), a.max(b))).collect();
    edges.sort_unstable();
    edges.dedup();
    let mut degree = vec![0usize; n];
    for &(a, b) in &edges {
        degree[a as usize] += 1;
        degree[b as usize] += 1;
    }
    out.set(F::isolation, degree.iter().filter(|&&d| d == 0).count() as f64 / n as f64);
    if n < 2 {
        return;
    }
    out.set(
        F::degree_centrality,
        degree.iter().copied().max().unwrap_or(0) as f64 / (n - 1) as f64,
    );
    let components = components(n, &edges);
    out.set(F::connectivity, (n - components) as f64 / (n - 1) as f64);
    out.set(F::clustering_coefficient, clustering(n, &edges, &degree));
}

/// Number of connected components (union-find with path halving).
fn components(n: usize, edges: &[(u32, u32)]) -> usize {
    fn root(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    let mut parent: Vec<u32> = (0..n as u32).collect();
    let mut count = n;
    for &(a, b) in edges {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb {
            parent[ra as usize] = rb;
            count -= 1;
        }
    }
    count
}

/// Mean local clustering coefficient over nodes of degree ≥ 2; triangles are counted by
/// orienting each edge towards the node of higher (degree, id), which bounds the work by
/// O(E^1.5) even for a star.
fn clustering(n: usize, edges: &[(u32, u32)], degree: &[usize]) -> f64 {
    let rank = |v: u32| (degree[v as usize], v);
    let mut out_adj: Vec<Vec<u32>> = vec![Vec::new(); n];
    for &(a, b) in edges {
        if rank(a) < rank(b) {
            out_adj[a as usize].push(b);
        } else {
            out_adj[b as usize].push(a);
        }
    }
    let mut triangles = vec![0usize; n];
    let mut mark = vec![u32::MAX; n];
    for u in 0..n {
        for &v in &out_adj[u] {
            mark[v as usize] = u as u32;
        }
        for &v in &out_adj[u] {
            for &x in &out_adj[v as usize] {
                if mark[x as usize] == u as u32 {
                    triangles[u] += 1;
                    triangles[v as usize] += 1;
                    triangles[x as usize] += 1;
                }
            }
        }
    }
    let (mut sum, mut count) = (0.0, 0usize);
    for v in 0..n {
        let d = degree[v];
        if d >= 2 {
            sum += triangles[v] as f64 / (d * (d - 1) / 2) as f64;
            count += 1;
        }
    }
    if count == 0 { 0.0 } else { sum / count as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_and_clustering_of_small_graphs() {
        // Triangle 0-1-2 plus a pendant 3 on 2, and an isolated 4.
        let edges = [(0, 1), (0, 2), (1, 2), (2, 3)];
        let degree = [2, 2, 3, 1, 0];
        assert_eq!(components(5, &edges), 2);
        // Local: 1, 1, 1/3 (one of three neighbour pairs linked).
        let expected = (1.0 + 1.0 + 1.0 / 3.0) / 3.0;
        assert!((clustering(5, &edges, &degree) - expected).abs() < 1e-12);
        // A star has no triangles.
        let star = [(0, 1), (0, 2), (0, 3)];
        assert_eq!(clustering(4, &star, &[3, 1, 1, 1]), 0.0);
    }
}
