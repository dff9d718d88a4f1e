//! Bearer tokens: which routes need which, compared in constant time.
//!
//! Tokens are kept only as SHA-256 digests. A presented token is hashed and compared with
//! every configured digest of the scopes that grant the route, with `subtle`'s
//! constant-time equality and without stopping at the first match: the time taken says
//! neither which token matched nor how long any configured token is.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use rand::RngExt;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::error::ApiError;
use vigil_engine::{AuthConfig, MIN_TOKEN_LEN};

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Scoring routes: open unless score tokens are configured.
    Score,
    /// `/v1/events` (it changes windows and the ledger): admin or ingest tokens, unless
    /// `server.open_ingest`.
    Ingest,
    /// `/v1/feedback`.
    Feedback,
    /// Learning and other admin routes.
    Admin,
}

/// The configured tokens, as digests.
#[derive(Clone, Default)]
pub(crate) struct Auth {
    admin: Vec<[u8; 32]>,
    ingest: Vec<[u8; 32]>,
    feedback: Vec<[u8; 32]>,
    score: Vec<[u8; 32]>,
    open_ingest: bool,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("admin", &self.admin.len())
            .field("ingest", &self.ingest.len())
            .field("feedback", &self.feedback.len())
            .field("score", &self.score.len())
            .field("open_ingest", &self.open_ingest)
            .finish()
    }
}

fn digest(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

impl Auth {
    pub(crate) fn new(config: &AuthConfig, open_ingest: bool) -> Self {
        let digests = |tokens: &[String]| tokens.iter().map(|t| digest(t.as_bytes())).collect();
        Self {
            admin: digests(&config.admin_tokens),
            ingest: digests(&config.ingest_tokens),
            feedback: digests(&config.feedback_tokens),
            score: digests(&config.score_tokens),
            open_ingest,
        }
    }

    /// Ok if the request may use a route of `scope`.
    pub(crate) fn require(&self, headers: &HeaderMap, scope: Scope) -> Result<(), ApiError> {
        let presented = bearer(headers)?;
        let open = match scope {
            Scope::Score => self.score.is_empty(),
            Scope::Ingest => self.open_ingest,
            Scope::Feedback | Scope::Admin => false,
        };
        let Some(token) = presented else {
            return if open { Ok(()) } else { Err(ApiError::unauthorized("missing bearer token")) };
        };
        let d = digest(token);
        let any = |list: &[[u8; 32]]| {
            list.iter().fold(Choice::from(0), |acc, known| acc | known.as_slice().ct_eq(&d))
        };
        let (admin, ingest, feedback, score) =
            (any(&self.admin), any(&self.ingest), any(&self.feedback), any(&self.score));
        let granted = match scope {
            Scope::Admin => admin,
            Scope::Ingest => admin | ingest,
            Scope::Feedback => admin | feedback,
            Scope::Score => admin | ingest | feedback | score,
        };
        if bool::from(granted) {
            Ok(())
        } else if bool::from(admin | ingest | feedback | score) {
            Err(ApiError::forbidden(format!("this token does not grant {} routes", scope.name())))
        } else {
            Err(ApiError::unauthorized("invalid bearer token"))
        }
    }
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Self::Score => "scoring",
            Self::Ingest => "ingest",
            Self::Feedback => "feedback",
            Self::Admin => "admin",
        }
    }
}

/// The bearer token of the `Authorization` header, if there is one.
fn bearer(headers: &HeaderMap) -> Result<Option<&[u8]>, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else { return Ok(None) };
    let bytes = value.as_bytes();
    let token = bytes
        .split_first_chunk::<7>()
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case(b"bearer "))
        .map(|(_, rest)| rest.trim_ascii())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
        })?;
    Ok(Some(token))
}

/// When no admin or feedback token is configured: reads the admin token from `path`, or
/// generates one (32 random bytes, hex) and writes it there, readable by the owner only.
/// Returns the token and whether it was generated.
pub fn ensure_token_file(path: &Path) -> anyhow::Result<(String, bool)> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let token = text.trim().to_owned();
            anyhow::ensure!(
                token.len() >= MIN_TOKEN_LEN,
                "token file {} holds a token shorter than {MIN_TOKEN_LEN} characters",
                path.display()
            );
            return Ok((token, false));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let bytes: [u8; 32] = rand::rng().random();
    let token = hex(&bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file =
        options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "{token}")
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok((token, true))
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(2 * bytes.len()), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn headers(value: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = value {
            h.insert(AUTHORIZATION, v.parse().unwrap());
        }
        h
    }

    fn check(auth: &Auth, header: Option<&str>, scope: Scope, expected: Option<StatusCode>) {
        let got = auth.require(&headers(header), scope).err().map(|e| e.status());
        assert_eq!(got, expected, "{header:?} {scope:?}");
    }

    #[test]
    fn scopes_and_tokens() {
        let config = AuthConfig {
            admin_tokens: vec!["admin-token-0123456789".into()],
            feedback_tokens: vec!["feedback-token-012345".into()],
            ingest_tokens: vec!["ingest-token-0123456789".into()],
            ..AuthConfig::default()
        };
        let auth = Auth::new(&config, false);
        let (admin, feedback, ingest) = (
            Some("Bearer admin-token-0123456789"),
            Some("bearer feedback-token-012345"),
            Some("Bearer ingest-token-0123456789"),
        );
        check(&auth, None, Scope::Score, None);
        // Ingest needs a token by default; admin and ingest tokens grant it.
        check(&auth, None, Scope::Ingest, Some(StatusCode::UNAUTHORIZED));
        check(&auth, admin, Scope::Ingest, None);
        check(&auth, feedback, Scope::Ingest, Some(StatusCode::FORBIDDEN));
        check(&auth, ingest, Scope::Ingest, None);
        check(&auth, ingest, Scope::Score, None);
        check(&auth, ingest, Scope::Feedback, Some(StatusCode::FORBIDDEN));
        check(&Auth::new(&config, true), None, Scope::Ingest, None);
        check(&auth, None, Scope::Feedback, Some(StatusCode::UNAUTHORIZED));
        check(&auth, admin, Scope::Admin, None);
        check(&auth, admin, Scope::Feedback, None);
        check(&auth, feedback, Scope::Feedback, None);
        check(&auth, feedback, Scope::Score, None);
        check(&auth, feedback, Scope::Admin, Some(StatusCode::FORBIDDEN));
        check(
            &auth,
            Some("Bearer admin-token-0123456780"),
            Scope::Admin,
            Some(StatusCode::UNAUTHORIZED),
        );
        check(&auth, Some("Bearer wrong"), Scope::Score, Some(StatusCode::UNAUTHORIZED));
        check(&auth, Some("Basic abc"), Scope::Admin, Some(StatusCode::UNAUTHORIZED));
        check(&auth, Some("Bearer "), Scope::Admin, Some(StatusCode::UNAUTHORIZED));

        let auth = Auth::new(
            &AuthConfig { score_tokens: vec!["score-token-0123456789".into()], ..config },
            false,
        );
        check(&auth, None, Scope::Score, Some(StatusCode::UNAUTHORIZED));
        check(&auth, Some("Bearer score-token-0123456789"), Scope::Score, None);
        check(
            &auth,
            Some("Bearer score-token-0123456789"),
            Scope::Feedback,
            Some(StatusCode::FORBIDDEN),
        );
    }

    #[test]
    fn the_token_file_is_generated_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/admin.token");
        let (token, generated) = ensure_token_file(&path).unwrap();
        assert!(generated);
        assert_eq!(token.len(), 64);
        assert_eq!(ensure_token_file(&path).unwrap(), (token, false));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
