//! Feature schema v2: the one table of the 100 features (name, group, formula, range), in
//! vector order. `docs/FEATURES.md` is generated from it ([`features_markdown`]), with what
//! each feature means for flow records ([`FLOW_USE`]).
//!
//! v2 (Zeek flows in) changed two formulas of v1 so that a flow record counts as the session
//! it is: a flow's duration is its session's duration, and a flow whose application protocol
//! the monitor recognised is content (an unanswered or unrecognised one stays empty). The
//! names, order and every other formula are v1's. Models and cached vectors of v1 are
//! refused by a v2 engine (the version is in both).
//!
//! The `schema!` macro below turns the table into [`FEATURES`] and into the private enum
//! `F`, whose variant `F::name` is the feature's index; the extractor writes every value
//! through `F`, so a feature cannot be computed into the wrong slot or left out.

use std::fmt::Write as _;

/// The schema version; goes into cache keys and model artifacts.
pub const SCHEMA_VERSION: &str = "v2";

/// Number of features in the schema.
pub const FEATURE_COUNT: usize = 100;

/// The group a feature belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// Clock time of the activity.
    Time,
    /// Event counts and rates in real windows.
    Volume,
    /// Source and destination ports.
    Port,
    /// Transport and application protocols.
    Protocol,
    /// Authentication attempts.
    Auth,
    /// Shell commands and file transfers.
    Command,
    /// HTTP requests.
    Http,
    /// Bytes, sessions, tunnels and IDS alerts.
    Network,
    /// Distributions of times, kinds and lengths.
    Statistical,
    /// Threat-intelligence feeds (advanced).
    ThreatIntel,
    /// Behaviour across sessions and time (advanced).
    Behavioral,
    /// The window's destination graph (advanced).
    Graph,
}

impl Group {
    /// Every group, in vector order.
    pub const ALL: [Self; 12] = [
        Self::Time,
        Self::Volume,
        Self::Port,
        Self::Protocol,
        Self::Auth,
        Self::Command,
        Self::Http,
        Self::Network,
        Self::Statistical,
        Self::ThreatIntel,
        Self::Behavioral,
        Self::Graph,
    ];

    /// The lower-case name used in docs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Time => "time",
            Self::Volume => "volume",
            Self::Port => "port",
            Self::Protocol => "protocol",
            Self::Auth => "auth",
            Self::Command => "command",
            Self::Http => "http",
            Self::Network => "network",
            Self::Statistical => "statistical",
            Self::ThreatIntel => "threat-intel",
            Self::Behavioral => "behavioral",
            Self::Graph => "graph",
        }
    }

    /// Whether the group is one of the 21 "advanced" features (threat intel, behavioral, graph).
    pub fn is_advanced(self) -> bool {
        matches!(self, Self::ThreatIntel | Self::Behavioral | Self::Graph)
    }
}

/// One feature: its stable name, group, formula and range of values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureSpec {
    /// Stable snake_case name.
    pub name: &'static str,
    /// Group.
    pub group: Group,
    /// How it is computed (see the notation in `docs/FEATURES.md`).
    pub formula: &'static str,
    /// The values it can take.
    pub range: &'static str,
}

macro_rules! schema {
    ($( $group:ident { $( $name:ident : $formula:literal, $range:literal; )* } )*) => {
        /// Feature indices: `F::name as usize` is the feature's position in the vector.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms, dead_code)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(usize)]
        pub(crate) enum F { $($($name,)*)* }

        /// The 100 features of the schema, in vector order.
        pub static FEATURES: [FeatureSpec; FEATURE_COUNT] = [
            $($( FeatureSpec { name: stringify!($name), group: Group::$group, formula: $formula, range: $range }, )*)*
        ];
    };
}

schema! {
    Time {
        hour_sin: "sin(2π·h/24), h = UTC hour of day (with fraction) of the newest event; 0 when empty", "[-1, 1]";
        hour_cos: "cos(2π·h/24), h as for hour_sin; 0 when empty", "[-1, 1]";
        day_of_week: "UTC weekday of the newest event (Monday 0 … Sunday 6) / 6; 0 when empty", "[0, 1]";
        weekend_fraction: "share of events on a UTC Saturday or Sunday", "[0, 1]";
        business_hours_fraction: "share of events with UTC hour in 09:00–16:59", "[0, 1]";
        night_fraction: "share of events with UTC hour in 00:00–05:59", "[0, 1]";
        time_span: "ln1p(span), span = newest − oldest event time in seconds", "[0, ∞)";
    }
    Volume {
        event_count_1min: "ln1p(events with t_end − t < 60 s)", "[0, ∞)";
        event_count_5min: "ln1p(events with t_end − t < 300 s)", "[0, ∞)";
        event_count_1h: "ln1p(events with t_end − t < 3600 s)", "[0, ∞)";
        event_count_24h: "ln1p(events with t_end − t < 86400 s)", "[0, ∞)";
        event_count: "ln1p(n)", "[0, ∞)";
        events_per_minute: "ln1p(60·n / max(span, 60 s))", "[0, ∞)";
        peak_events_per_minute: "ln1p(most events in any 60 s interval [t_i, t_i + 60 s))", "[0, ∞)";
        burst_fraction: "most events in any 60 s interval / n", "[0, 1]";
        active_minutes: "ln1p(distinct UTC minutes ⌊t/60⌋ with an event)", "[0, ∞)";
        duty_cycle: "distinct active minutes / (⌊t_end/60⌋ − ⌊t_start/60⌋ + 1)", "[0, 1]";
    }
    Port {
        unique_dst_ports: "ln1p(distinct dst_port)", "[0, ∞)";
        unique_src_ports: "ln1p(distinct src_port)", "[0, ∞)";
        dst_port_diversity: "distinct dst_port / events with a dst_port", "[0, 1]";
        dst_port_entropy: "Shannon entropy (bits) of the dst_port distribution", "[0, 16]";
        common_port_fraction: "share of events with a dst_port whose port is in {21, 22, 23, 25, 53, 80, 110, 143, 443, 445, 993, 995, 1433, 3306, 3389, 5432, 5900, 8080}", "[0, 1]";
        high_port_fraction: "share of events with a dst_port whose port is ≥ 49152", "[0, 1]";
        low_src_port_fraction: "share of events with a src_port whose port is < 1024", "[0, 1]";
        sequential_port_fraction: "with the distinct dst ports sorted p₁ < … < p_k: #{j : p_{j+1} − p_j = 1} / (k − 1); 0 when k < 2", "[0, 1]";
    }
    Protocol {
        tcp_fraction: "share of events with transport TCP", "[0, 1]";
        udp_fraction: "share of events with transport UDP", "[0, 1]";
        icmp_fraction: "share of events with transport ICMP", "[0, 1]";
        ssh_fraction: "share of events with application protocol SSH", "[0, 1]";
        http_fraction: "share of events with application protocol HTTP", "[0, 1]";
        protocol_diversity: "distinct known application protocols (SSH, Telnet, HTTP, TLS, DNS, FTP, SMTP, SMB, other)", "[0, 9]";
    }
    Auth {
        failed_login_count: "ln1p(login_failed events)", "[0, ∞)";
        successful_login_count: "ln1p(login_success events)", "[0, ∞)";
        login_failure_rate: "login_failed / logins", "[0, 1]";
        unique_usernames: "ln1p(distinct usernames over logins)", "[0, ∞)";
        unique_passwords: "ln1p(distinct passwords over logins)", "[0, ∞)";
        passwords_per_username: "ln1p(distinct passwords / distinct usernames); 0 without usernames", "[0, ∞)";
        default_username_fraction: "share of logins whose username (any case) is in {root, admin, administrator, user, guest, test, ubnt, pi, oracle, support, ftp, postgres, default}", "[0, 1]";
        username_as_password_fraction: "share of logins whose password equals the username", "[0, 1]";
        logins_per_session: "ln1p(logins / distinct sessions of the logins), a login without a session counting as its own session", "[0, ∞)";
        failed_logins_per_minute: "ln1p(60·login_failed / max(last − first failed login time, 60 s))", "[0, ∞)";
    }
    Command {
        command_count: "ln1p(command events)", "[0, ∞)";
        unique_commands: "ln1p(distinct command strings, trimmed)", "[0, ∞)";
        failed_command_fraction: "command_failed events / max(command events, command_failed events)", "[0, 1]";
        download_tool_fraction: "share of commands running a fetch tool: a word (basename) in {wget, curl, tftp, ftpget, ftp, scp, sftp, fetch, lwp-download}", "[0, 1]";
        script_execution_fraction: "share of commands running an interpreter or a local file: a word in {sh, bash, ash, dash, zsh, ksh, busybox, python, python2, python3, perl, php, ruby, node, lua, source, exec, eval} or a word starting with ./", "[0, 1]";
        privilege_escalation_fraction: "share of commands with a word in {sudo, su, passwd, chpasswd, useradd, adduser, usermod, visudo} or containing /etc/shadow, /etc/sudoers, chmod +s, chmod u+s", "[0, 1]";
        recon_command_fraction: "share of commands with a word in {uname, whoami, id, w, who, last, ps, free, df, lscpu, nproc, ifconfig, netstat, hostname, uptime, lspci, dmidecode, getconf} or containing /proc/cpuinfo, /proc/meminfo, /etc/issue, /etc/os-release", "[0, 1]";
        persistence_command_fraction: "share of commands containing crontab, /etc/cron, authorized_keys, .bashrc, .profile, rc.local, /etc/init.d, systemctl enable or chattr", "[0, 1]";
        file_download_count: "ln1p(file_download events)", "[0, ∞)";
        file_upload_count: "ln1p(file_upload events)", "[0, ∞)";
    }
    Http {
        http_request_count: "ln1p(requests)", "[0, ∞)";
        http_method_count: "distinct HTTP methods", "[0, ∞)";
        unique_paths: "ln1p(distinct request paths, without query string)", "[0, ∞)";
        mean_url_length: "ln1p(mean URL length in bytes over requests with a URL)", "[0, ∞)";
        url_char_entropy: "mean over requests with a URL of the Shannon entropy (bits per byte) of the URL's bytes", "[0, 8]";
        suspicious_path_fraction: "share of requests whose decoded, lower-cased URL contains an admin, config, backup or shell path (/admin, /wp-login, /wp-admin, /phpmyadmin, /.env, /.git, /config, /backup, /cgi-bin, /shell, /manager/html, /xmlrpc.php, .bak, .sql)", "[0, 1]";
        sql_injection_fraction: "share of requests whose decoded, lower-cased URL contains an SQL-injection marker (' or , \" or , or 1=1, union select, union all select, information_schema, sleep(, benchmark(, '--, ' --, ; drop , waitfor delay)", "[0, 1]";
        xss_fraction: "share of requests whose decoded, lower-cased URL contains <script, javascript:, onerror=, onload=, alert(, <img, <svg or document.cookie", "[0, 1]";
        path_traversal_fraction: "share of requests whose decoded URL contains ../, ..\\, /etc/passwd, c:\\windows or a double-encoded %2e%2e", "[0, 1]";
        http_error_fraction: "share of requests with a status whose status is ≥ 400", "[0, 1]";
    }
    Network {
        bytes_out: "ln1p(Σ bytes_out), bytes sent by the source", "[0, ∞)";
        bytes_in: "ln1p(Σ bytes_in), bytes sent to the source", "[0, ∞)";
        bytes_out_ratio: "Σ bytes_out / (Σ bytes_out + Σ bytes_in); 0 without bytes", "[0, 1]";
        session_count: "ln1p(distinct sessions)", "[0, ∞)";
        mean_session_duration: "ln1p(mean session duration in seconds); a session's duration is the longest duration of its session_closed or flow events, else its last − first event time", "[0, ∞)";
        max_concurrent_sessions: "ln1p(most sessions open at one instant), a session open from its first event to max(its last event, first event + duration)", "[0, ∞)";
        empty_session_fraction: "share of sessions with no login, command, file transfer, tunnel, HTTP request, alert or flow with a known application protocol (connect/close/client info, unanswered or unrecognised flows only)", "[0, 1]";
        forward_request_count: "ln1p(forward_request events: TCP tunnels through the sensor)", "[0, ∞)";
        ids_alert_count: "ln1p(ids_alert events)", "[0, ∞)";
        alert_severity_max: "max over alerts of 1/severity (1 = most severe; 3 when unset); 0 without alerts", "[0, 1]";
    }
    Statistical {
        mean_inter_event_time: "ln1p(mean Δ); 0 when n < 2", "[0, ∞)";
        std_inter_event_time: "ln1p(population standard deviation of Δ); 0 when n < 2", "[0, ∞)";
        median_inter_event_time: "ln1p(median Δ); 0 when n < 2", "[0, ∞)";
        max_inter_event_time: "ln1p(max Δ); 0 when n < 2", "[0, ∞)";
        kind_entropy: "Shannon entropy of the event-kind distribution / log2(15 kinds)", "[0, 1]";
        hourly_activity_cv: "standard deviation / mean of the event counts of the active UTC hours ⌊t/3600⌋; 0 with fewer than 2 active hours", "[0, ∞)";
        mean_command_length: "ln1p(mean length in characters of the trimmed commands); 0 without commands", "[0, ∞)";
        mean_password_length: "ln1p(mean password length in characters over logins with a password)", "[0, ∞)";
    }
    ThreatIntel {
        ip_reputation: "abuseConfidenceScore / 100 of the entity in the reputation file (AbuseIPDB export); 0 when not listed", "[0, 1]";
        tor_exit_node: "1 when the entity is in the Tor exit list, else 0", "{0, 1}";
        asn_reputation: "score (asn,score file) of the entity's ASN (ip2asn table); 0 when the ASN or its score is unknown", "[0, 1]";
        domain_age_days: "ln1p(age in days at t_end of the youngest domain in the window's URLs and destination host names that the domain-age cache knows; parent domains are tried too; ages before creation count as 0); −1 when none is known", "{−1} ∪ [0, ∞)";
        threat_intel_matches: "number of feeds listing the entity: each blocklist, the Tor list, the C2 list, and the reputation file when its score > 0", "[0, ∞)";
        known_c2: "1 when the entity or any destination address (dst_ip, IP-literal URL hosts) is on the C2 list, else 0", "{0, 1}";
    }
    Behavioral {
        command_entropy: "Shannon entropy (bits) of the distribution of command strings", "[0, ∞)";
        timing_regularity: "1 / (1 + std(Δ)/mean(Δ)); 0 when n < 3 or mean(Δ) = 0", "[0, 1]";
        behavioral_consistency: "share of sessions whose signature (the ordered kinds and commands of its events) is the most common one; 0 without sessions", "[0, 1]";
        session_duration_variance: "ln1p(population variance of session durations in s²); 0 with fewer than 2 sessions", "[0, ∞)";
        inter_event_time_entropy: "Shannon entropy of Δ over 8 bins with edges 0.1, 1, 10, 60, 600, 3600, 86400 s, / 3 (= log2 8); 0 when n < 2", "[0, 1]";
        resource_access_diversity: "ln1p(distinct resources: command programs (first word), URL paths, download and upload URLs, tunnel targets host:port)", "[0, ∞)";
        lateral_movement_score: "ln1p(distinct internal destination addresses (private, loopback, link-local, CGNAT, ULA) reached by events other than session_connect, excluding the sensors' own addresses (session_connect destinations))", "[0, ∞)";
        data_exfiltration_score: "ln1p(max(0, bytes_out − bytes_in to public destination addresses) / 1024)", "[0, ∞)";
    }
    Graph {
        degree_centrality: "max degree / (N − 1) in the destination graph; 0 when N < 2", "[0, 1]";
        clustering_coefficient: "mean local clustering coefficient over destinations of degree ≥ 2; 0 when none", "[0, 1]";
        connectivity: "(N − components) / (N − 1); 0 when N < 2", "[0, 1]";
        communication_pattern_entropy: "Shannon entropy of destination-bearing events over destinations / log2 N; 0 when N < 2", "[0, 1]";
        unique_destinations: "ln1p(N)", "[0, ∞)";
        bidirectional_pairs: "ln1p(destination pairs {a, b} with transitions both a → b and b → a)", "[0, ∞)";
        isolation: "share of destinations with no link; 1 when N = 0", "[0, 1]";
    }
}

const fn names() -> [&'static str; FEATURE_COUNT] {
    let mut out = [""; FEATURE_COUNT];
    let mut i = 0;
    while i < FEATURE_COUNT {
        out[i] = FEATURES[i].name;
        i += 1;
    }
    out
}

static NAMES: [&str; FEATURE_COUNT] = names();

/// The 100 feature names in vector order.
pub fn feature_names() -> &'static [&'static str; FEATURE_COUNT] {
    &NAMES
}

/// The index of a feature by name.
pub fn feature_index(name: &str) -> Option<usize> {
    NAMES.iter().position(|n| *n == name)
}

/// `docs/FEATURES.md`, generated from [`FEATURES`].
pub fn features_markdown() -> String {
    let mut md = String::new();
    let basic = FEATURES.iter().filter(|f| !f.group.is_advanced()).count();
    let _ = writeln!(md, "# Features (schema {SCHEMA_VERSION})\n");
    let _ = writeln!(
        md,
        "<!-- Generated from crates/features/src/schema.rs by the test `features_md_is_up_to_date`; \
         rewrite with `UPDATE_FEATURES_MD=1 cargo test -p vigil-features`. Do not edit by hand. -->\n"
    );
    let _ = writeln!(
        md,
        "{FEATURE_COUNT} features per window of events ({basic} basic + {} advanced), computed by \
         `vigil_features::extract` from the events of one source IP (the *entity*).\n",
        FEATURE_COUNT - basic
    );
    md.push_str(NOTATION);
    md.push_str("\n## Groups\n\n| group | features | indices |\n|---|---|---|\n");
    for g in Group::ALL {
        let idx: Vec<usize> = (0..FEATURE_COUNT).filter(|&i| FEATURES[i].group == g).collect();
        let (first, last) = (idx.first().copied().unwrap_or(0), idx.last().copied().unwrap_or(0));
        let _ = writeln!(md, "| {} | {} | {first}–{last} |", g.name(), idx.len());
    }
    md.push_str("\n## Features\n\n| # | name | group | formula | range |\n|---|---|---|---|---|\n");
    for (i, f) in FEATURES.iter().enumerate() {
        let formula = f.formula.replace('|', "\\|");
        let _ =
            writeln!(md, "| {i} | `{}` | {} | {formula} | {} |", f.name, f.group.name(), f.range);
    }
    md.push_str(
        "\n## Flow records\n\nWhat the features mean for a source seen by a network monitor \
         (Zeek `conn`, Suricata `flow`) rather than by a honeypot. A flow carries its ports, \
         transport, recognised application protocol, duration and IP-level bytes each way \
         (packets and connection state are kept on the event, not in the vector).\n\n\
         | source | features |\n|---|---|\n",
    );
    for (what, names) in FLOW_USE {
        let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        let _ = writeln!(md, "| {what} ({}) | {} |", names.len(), list.join(", "));
    }
    md
}

/// What a feature means for a window of flow records (Zeek `conn`, Suricata `flow`), and
/// where the other features come from: each of the 100 names in exactly one row.
#[rustfmt::skip]
pub const FLOW_USE: [(&str, &[&str]); 3] = [
    (
        "meaningful for flow records (`conn` alone)",
        &[
            "hour_sin", "hour_cos", "day_of_week", "weekend_fraction", "business_hours_fraction",
            "night_fraction", "time_span", "event_count_1min", "event_count_5min",
            "event_count_1h", "event_count_24h", "event_count", "events_per_minute",
            "peak_events_per_minute", "burst_fraction", "active_minutes", "duty_cycle",
            "unique_dst_ports", "unique_src_ports", "dst_port_diversity", "dst_port_entropy",
            "common_port_fraction", "high_port_fraction", "low_src_port_fraction",
            "sequential_port_fraction", "tcp_fraction", "udp_fraction", "icmp_fraction",
            "ssh_fraction", "http_fraction", "protocol_diversity", "bytes_out", "bytes_in",
            "bytes_out_ratio", "session_count", "mean_session_duration",
            "max_concurrent_sessions", "empty_session_fraction", "mean_inter_event_time",
            "std_inter_event_time", "median_inter_event_time", "max_inter_event_time",
            "kind_entropy", "hourly_activity_cv", "ip_reputation", "tor_exit_node",
            "asn_reputation", "threat_intel_matches", "known_c2", "timing_regularity",
            "behavioral_consistency", "session_duration_variance", "inter_event_time_entropy",
            "lateral_movement_score", "data_exfiltration_score", "degree_centrality",
            "clustering_coefficient", "connectivity", "communication_pattern_entropy",
            "unique_destinations", "bidirectional_pairs", "isolation",
        ],
    ),
    (
        "from Zeek's other logs (`http`: the HTTP group and URL resources; `ssh`: login \
         outcomes; `notice`: alerts; `files`: transfers; `dns`/`ssl`/`http`: names for domain \
         age)",
        &[
            "failed_login_count", "successful_login_count", "login_failure_rate",
            "logins_per_session", "failed_logins_per_minute", "file_download_count",
            "file_upload_count", "http_request_count", "http_method_count", "unique_paths",
            "mean_url_length", "url_char_entropy", "suspicious_path_fraction",
            "sql_injection_fraction", "xss_fraction", "path_traversal_fraction",
            "http_error_fraction", "ids_alert_count", "alert_severity_max", "domain_age_days",
            "resource_access_diversity",
        ],
    ),
    (
        "honeypot (Cowrie) only: credentials, shell commands and tunnels, which no network \
         monitor sees",
        &[
            "unique_usernames", "unique_passwords", "passwords_per_username",
            "default_username_fraction", "username_as_password_fraction", "command_count",
            "unique_commands", "failed_command_fraction", "download_tool_fraction",
            "script_execution_fraction", "privilege_escalation_fraction",
            "recon_command_fraction", "persistence_command_fraction", "forward_request_count",
            "mean_command_length", "mean_password_length", "command_entropy",
        ],
    ),
];

const NOTATION: &str = "## Notation and conventions

- A *window* is the events of one entity; extraction sorts them by time, ties broken by
  every other field, so the same events in any order give the same vector.
- n: number of events. t: an event's own timestamp (from its payload, never the ingest
  time). t_end / t_start: newest / oldest event time. span = t_end − t_start (seconds).
- Windows (1 min, 5 min, 1 h, 24 h) end at t_end, never at the wall clock.
- Δ: the n − 1 gaps between consecutive event times, in seconds.
- ln1p(x) = ln(1 + x): counts, sizes and durations are log-scaled so heavy tails do not
  dominate a model; the formula says so where it applies.
- logins: login_failed and login_success events. commands: command events
  (`cowrie.command.input`). requests: http_request events and any event with an HTTP method
  (e.g. a Cowrie tunnel carrying an HTTP request).
- A share (\"share of …\") or ratio is 0 when its denominator is 0.
- Entity: the most frequent src_ip of the window (the smallest address on a tie); the
  threat-intel features look it up.
- Sessions: events sharing a sensor and session id. A flow record (Zeek `uid`, Suricata
  `flow_id`) is a session of its own; its duration is the flow's.
- Destination graph: nodes are the window's destinations (dst_ip, else dst_host); two
  destinations are linked when consecutive destination-bearing events go to them less than
  60 s apart (a transition a → b). N: number of destinations.
- Every value is finite: an empty window gives the defined values above (mostly 0), never
  NaN or ∞.
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case_and_indexed_by_f() {
        let mut seen = std::collections::BTreeSet::new();
        for (i, f) in FEATURES.iter().enumerate() {
            assert!(seen.insert(f.name), "{} twice", f.name);
            assert!(
                f.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{}",
                f.name
            );
            assert_eq!(feature_index(f.name), Some(i));
            assert!(!f.formula.is_empty() && !f.range.is_empty());
        }
        assert_eq!(F::hour_sin as usize, 0);
        assert_eq!(F::isolation as usize, FEATURE_COUNT - 1);
        assert_eq!(FEATURES[F::known_c2 as usize].name, "known_c2");
    }

    #[test]
    fn every_feature_has_one_flow_use() {
        let mut seen: Vec<&str> =
            FLOW_USE.iter().flat_map(|(_, names)| names.iter().copied()).collect();
        seen.sort_unstable();
        let mut all: Vec<&str> = FEATURES.iter().map(|f| f.name).collect();
        all.sort_unstable();
        assert_eq!(seen, all);
    }

    #[test]
    fn group_sizes_are_79_basic_and_21_advanced() {
        let count = |g: Group| FEATURES.iter().filter(|f| f.group == g).count();
        assert_eq!(count(Group::ThreatIntel), 6);
        assert_eq!(count(Group::Behavioral), 8);
        assert_eq!(count(Group::Graph), 7);
        assert_eq!(FEATURES.iter().filter(|f| !f.group.is_advanced()).count(), 79);
        // Groups are contiguous and in Group::ALL order.
        let groups: Vec<Group> = FEATURES.iter().map(|f| f.group).collect();
        let mut sorted = groups.clone();
        sorted.sort();
        assert_eq!(groups, sorted);
        assert!(Group::ALL.iter().all(|&g| count(g) > 0));
    }
}
