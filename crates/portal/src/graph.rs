//! A deterministic force layout for the network map.
//!
//! Nodes are grouped (by subnet or zone). Each group gets a disc whose area
//! grows with its node count; the discs are packed in rows, largest first.
//! Inside a disc, nodes start on a spiral in the order of a hash of their id and
//! settle under Fruchterman-Reingold forces (edges pull, every pair pushes) for a
//! fixed number of steps with a cooling temperature, clamped to the disc. There
//! is no randomness and no dependence on hash-map order, so the same data gives
//! the same picture every time, and a new device does not reshuffle the others'
//! groups.

use std::collections::BTreeMap;

use crate::util::fnv;

/// A node to place.
#[derive(Debug, Clone)]
pub struct Node {
    /// Its id (an address).
    pub id: String,
    /// Its group (a subnet, a zone).
    pub group: String,
}

/// A placed group: its name, centre and radius.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupDisc {
    /// The group.
    pub name: String,
    /// Centre x.
    pub x: f64,
    /// Centre y.
    pub y: f64,
    /// Radius.
    pub r: f64,
}

/// The result: a position per node (same order as the input) and the discs.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// (x, y) per node.
    pub pos: Vec<(f64, f64)>,
    /// The groups.
    pub groups: Vec<GroupDisc>,
    /// Width of the drawing.
    pub width: f64,
    /// Height of the drawing.
    pub height: f64,
}

/// Radius of a group's disc for `n` nodes.
fn disc_radius(n: usize) -> f64 {
    40.0 + 30.0 * (n as f64).sqrt()
}

/// Lays out `nodes` with `edges` (index pairs) in a drawing `width` wide.
pub fn layout(nodes: &[Node], edges: &[(usize, usize)], width: f64) -> Layout {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        groups.entry(n.group.as_str()).or_default().push(i);
    }
    let mut order: Vec<(&str, Vec<usize>)> = groups.into_iter().collect();
    order.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    // Shelf packing of the discs.
    let pad = 16.0;
    let (mut x, mut y, mut shelf) = (pad, pad, 0.0f64);
    let mut discs = Vec::with_capacity(order.len());
    for (name, members) in &order {
        let r = disc_radius(members.len());
        if x + 2.0 * r + pad > width && x > pad {
            x = pad;
            y += shelf + pad;
            shelf = 0.0;
        }
        discs.push(GroupDisc {
            name: (*name).to_string(),
            x: x + r,
            y: y + r + 14.0,
            r,
        });
        x += 2.0 * r + pad;
        shelf = shelf.max(2.0 * r + 14.0);
    }
    let height = y + shelf + pad;
    let mut pos = vec![(0.0, 0.0); nodes.len()];
    let mut adjacency: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for &(a, b) in edges {
        if a < nodes.len() && b < nodes.len() && a != b {
            adjacency[a].push(b);
            adjacency[b].push(a);
        }
    }
    for ((_, members), disc) in order.iter().zip(&discs) {
        place_group(nodes, members, &adjacency, disc, &mut pos);
    }
    Layout {
        pos,
        groups: discs,
        width,
        height,
    }
}

fn place_group(
    nodes: &[Node],
    members: &[usize],
    adjacency: &[Vec<usize>],
    disc: &GroupDisc,
    pos: &mut [(f64, f64)],
) {
    let n = members.len();
    if n == 0 {
        return;
    }
    let inner = (disc.r - 18.0).max(4.0);
    // Start on a sunflower spiral, ordered by hash of the id.
    let mut sorted: Vec<usize> = members.to_vec();
    sorted.sort_by_key(|&i| (fnv(&nodes[i].id), i));
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    let mut local: Vec<(f64, f64)> = Vec::with_capacity(n);
    let mut index_of = std::collections::HashMap::with_capacity(n);
    for (k, &i) in sorted.iter().enumerate() {
        let r = inner * ((k as f64 + 0.5) / n as f64).sqrt();
        let a = k as f64 * golden;
        local.push((r * a.cos(), r * a.sin()));
        index_of.insert(i, k);
    }
    if n > 1 {
        let area = std::f64::consts::PI * inner * inner;
        // A little tighter than the textbook optimum, with gravity towards the
        // centre: otherwise leaves pushed by every other node pile up on the rim.
        let k_opt = 0.75 * (area / n as f64).sqrt();
        let gravity = 2.0 / inner;
        let steps = 150;
        for step in 0..steps {
            let temp = inner * 0.08 * (1.0 - step as f64 / steps as f64) + 0.3;
            let mut disp = vec![(0.0f64, 0.0f64); n];
            for a in 0..n {
                for b in (a + 1)..n {
                    let dx = local[a].0 - local[b].0;
                    let dy = local[a].1 - local[b].1;
                    let d2 = (dx * dx + dy * dy).max(0.01);
                    let f = k_opt * k_opt / d2;
                    disp[a].0 += dx * f;
                    disp[a].1 += dy * f;
                    disp[b].0 -= dx * f;
                    disp[b].1 -= dy * f;
                }
            }
            for (a, &i) in sorted.iter().enumerate() {
                for j in &adjacency[i] {
                    if let Some(&b) = index_of.get(j) {
                        let dx = local[a].0 - local[b].0;
                        let dy = local[a].1 - local[b].1;
                        let d = (dx * dx + dy * dy).sqrt().max(0.01);
                        let f = d / k_opt;
                        disp[a].0 -= dx * f;
                        disp[a].1 -= dy * f;
                    }
                }
                let (x, y) = local[a];
                let d = (x * x + y * y).sqrt();
                disp[a].0 -= x * gravity * d / k_opt;
                disp[a].1 -= y * gravity * d / k_opt;
            }
            for (p, d) in local.iter_mut().zip(&disp) {
                let len = (d.0 * d.0 + d.1 * d.1).sqrt().max(0.01);
                let m = len.min(temp);
                p.0 += d.0 / len * m;
                p.1 += d.1 / len * m;
                let r = (p.0 * p.0 + p.1 * p.1).sqrt();
                if r > inner {
                    p.0 *= inner / r;
                    p.1 *= inner / r;
                }
            }
        }
    }
    for (k, &i) in sorted.iter().enumerate() {
        pos[i] = (disc.x + local[k].0, disc.y + local[k].1);
    }
}

/// The /24 (IPv4) or /64 (IPv6) an address belongs to, as `a.b.c.0/24`.
pub fn subnet_of(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Err(_) => "?".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(n: usize) -> Vec<Node> {
        (0..n)
            .map(|i| Node {
                id: format!("10.0.{}.{}", i % 3, i),
                group: format!("g{}", i % 3),
            })
            .collect()
    }

    #[test]
    fn layout_is_deterministic_and_inside_the_discs() {
        let ns = nodes(60);
        let edges: Vec<(usize, usize)> = (0..59).map(|i| (i, i + 1)).collect();
        let a = layout(&ns, &edges, 1200.0);
        let b = layout(&ns, &edges, 1200.0);
        assert_eq!(a, b);
        assert_eq!(a.groups.len(), 3);
        for (i, n) in ns.iter().enumerate() {
            let g = a
                .groups
                .iter()
                .find(|g| g.name == n.group)
                .expect("group placed");
            let (x, y) = a.pos[i];
            assert!(
                ((x - g.x).powi(2) + (y - g.y).powi(2)).sqrt() <= g.r,
                "node {i} outside its disc"
            );
            assert!(x.is_finite() && y.is_finite());
        }
        // Nodes do not pile up: every pair at least a few pixels apart.
        for i in 0..ns.len() {
            for j in (i + 1)..ns.len() {
                let d =
                    ((a.pos[i].0 - a.pos[j].0).powi(2) + (a.pos[i].1 - a.pos[j].1).powi(2)).sqrt();
                assert!(ns[i].group != ns[j].group || d > 3.0, "{i} and {j} overlap");
            }
        }
    }

    #[test]
    fn subnets() {
        assert_eq!(subnet_of("192.168.10.7"), "192.168.10.0/24");
        assert_eq!(subnet_of("fe80::1"), "fe80:0:0:0::/64");
        assert_eq!(subnet_of("x"), "?");
    }
}
