//! A real registry with token auth (`auth.token`) and the test token server: scopes, denial,
//! every credential source, and how many tokens a long run of requests costs.

mod auth_support;
mod common;

use std::collections::BTreeMap;

use auth_support::{answering_helper, assert_no_secret, small_image};
use common::token_server::{Rule, TokenServer, User};
use common::{TempDir, TestRegistry};
use dockreg::{Client, Credentials, DockerConfigSource, Error, Reference};

const PULLER: (&str, &str) = ("puller", "pull-pw-1");
const PUSHER: (&str, &str) = ("pusher", "push-pw-2");
const CATALOGER: (&str, &str) = ("cataloger", "cat-pw-3");
const PULLER_REFRESH: &str = "refresh-token-of-puller";

fn users() -> BTreeMap<String, User> {
    let user = |pw: &str, refresh: Option<&str>, rules: Vec<Rule>| User {
        password: pw.to_string(),
        refresh_token: refresh.map(str::to_string),
        rules,
    };
    let pull = Rule {
        kind: "repository",
        name: "*",
        actions: &["pull"],
    };
    BTreeMap::from([
        (
            PULLER.0.to_string(),
            user(PULLER.1, Some(PULLER_REFRESH), vec![pull.clone()]),
        ),
        (
            PUSHER.0.to_string(),
            user(
                PUSHER.1,
                None,
                vec![Rule {
                    kind: "repository",
                    name: "*",
                    actions: &["pull", "push", "delete"],
                }],
            ),
        ),
        (
            CATALOGER.0.to_string(),
            user(
                CATALOGER.1,
                None,
                vec![
                    pull,
                    Rule {
                        kind: "registry",
                        name: "catalog",
                        actions: &["*"],
                    },
                ],
            ),
        ),
    ])
}

struct Setup {
    tokens: TokenServer,
    registry: TestRegistry,
    image: (Vec<u8>, Vec<u8>, Vec<u8>),
}

/// Token server + registry holding `team/app:v1` (pushed with raw HTTP and a pusher token).
fn setup() -> Setup {
    let tokens = TokenServer::start(users());
    let registry = TestRegistry::start_with(&tokens.registry_yaml());
    let image = small_image("token");
    let token = tokens.token_for(PUSHER.0, &["repository:team/app:pull,push"]);
    let auth = format!("Bearer {token}");
    auth_support::push_image_blobs(&registry.url(), "team/app", &image, &auth);
    auth_support::put_manifest(&registry.url(), "team/app", "v1", &image.2, &auth);
    Setup {
        tokens,
        registry,
        image,
    }
}

impl Setup {
    fn image(&self, name: &str) -> Reference {
        format!("{}/{name}", self.registry.addr()).parse().unwrap()
    }

    fn client(&self, user: (&str, &str)) -> Client {
        Client::builder()
            .docker_config(DockerConfigSource::None)
            .credentials(&self.registry.addr(), Credentials::basic(user.0, user.1))
            .build()
            .unwrap()
    }
}

#[test]
fn pull_only_user_pulls_and_is_denied_a_push() {
    let s = setup();
    let client = s.client(PULLER);
    let image = s.image("team/app:v1");
    let m = client
        .get_manifest(&image)
        .expect("pull with a pull-only user");
    assert_eq!(m.bytes, s.image.2);
    assert_eq!(client.get_image_config(&image).unwrap().os, "linux");
    assert_eq!(client.list_tags(&image).unwrap(), ["v1"]);

    let before = s.tokens.count();
    let e = client
        .put_manifest(
            &s.image("team/app:v2"),
            &s.image.2,
            auth_support::OCI_MANIFEST,
        )
        .unwrap_err();
    // The registry says 401 insufficient_scope; we authenticated, so it is a denial.
    assert!(matches!(e, Error::Denied(_)), "{e:?}");
    assert_eq!(e.http_status(), Some(401));
    assert!(e.to_string().starts_with("denied: PUT "), "{e}");
    assert_no_secret(&e, &[PULLER.1]);
    // One token for the push scope, one more after the 401: no loop.
    assert_eq!(s.tokens.count() - before, 2, "{:?}", s.tokens.requests());
    let last = s.tokens.requests().pop().unwrap();
    assert_eq!(last.user.as_deref(), Some(PULLER.0));
    assert!(
        last.scopes
            .iter()
            .any(|x| x.starts_with("repository:team/app:") && x.contains("push")),
        "{last:?}"
    );
}

#[test]
fn push_user_pushes() {
    let s = setup();
    let client = s.client(PUSHER);
    let target = s.image("team/app:pushed");
    let digest = client
        .put_manifest(&target, &s.image.2, auth_support::OCI_MANIFEST)
        .expect("push with the push user");
    assert_eq!(client.get_digest(&target).unwrap(), digest);
    // A new repository: blobs first (raw, with a token), then the manifest through dockreg.
    let token = s
        .tokens
        .token_for(PUSHER.0, &["repository:other/app:pull,push"]);
    auth_support::push_image_blobs(
        &s.registry.url(),
        "other/app",
        &s.image,
        &format!("Bearer {token}"),
    );
    let other = s.image("other/app:v1");
    assert_eq!(
        client
            .put_manifest(&other, &s.image.2, auth_support::OCI_MANIFEST)
            .unwrap(),
        digest
    );
    assert_eq!(client.set_tag(&other, "v2").unwrap(), digest);
    assert_eq!(client.list_tags(&other).unwrap().len(), 2);
}

/// A blob push asks its existence HEAD, POST and PUT under one scope: one token, not one for
/// the HEAD's pull and another for the upload.
#[test]
fn blob_push_costs_one_token() {
    let s = setup();
    let client = s.client(PUSHER);
    let repo = s.image("team/blobs");
    // The first request teaches the challenge (401 then a token): count from a warm client.
    client.list_tags(&s.image("team/app")).unwrap();
    let before = s.tokens.count();
    let data = b"a blob pushed with one token".to_vec();
    let digest = client.push_blob_bytes(&repo, &data).unwrap();
    assert_eq!(digest, dockreg::Digest::sha256_of(&data));
    let used = s.tokens.count() - before;
    assert_eq!(used, 1, "{:?}", s.tokens.requests());
    // A second push to the same repository reuses it.
    client.push_blob_bytes(&repo, b"another blob").unwrap();
    assert_eq!(s.tokens.count() - before, 1, "{:?}", s.tokens.requests());
}

#[test]
fn anonymous_and_wrong_password() {
    let s = setup();
    let image = s.image("team/app:v1");
    let anonymous = Client::builder()
        .docker_config(DockerConfigSource::None)
        .build()
        .unwrap();
    let e = anonymous.get_manifest(&image).unwrap_err();
    // No credentials: an anonymous token without access, then 401 again.
    assert!(matches!(e, Error::Unauthorized(_)), "{e:?}");
    let anon = s.tokens.requests();
    assert!(anon.iter().all(|r| r.user.is_none()), "{anon:?}");

    let secret = "not-the-Password-42";
    let wrong = s.client((PULLER.0, secret));
    let e = wrong.get_manifest(&image).unwrap_err();
    match &e {
        Error::Auth { registry, message } => {
            assert_eq!(registry, &s.registry.addr());
            assert!(message.contains("token request to"), "{message}");
            assert!(message.contains("401"), "{message}");
        }
        other => panic!("expected an Auth error, got {other:?}"),
    }
    assert_no_secret(&e, &[secret]);
}

#[test]
fn catalog_needs_its_scope() {
    let s = setup();
    let e = s
        .client(PULLER)
        .list_repositories(&s.registry.addr())
        .unwrap_err();
    assert!(matches!(e, Error::Denied(_)), "{e:?}");
    let repos = s
        .client(CATALOGER)
        .list_repositories(&s.registry.addr())
        .expect("catalog with the catalog user");
    assert_eq!(repos, ["team/app"]);
    let asked: Vec<String> = s
        .tokens
        .requests()
        .into_iter()
        .filter(|r| r.user.as_deref() == Some(CATALOGER.0))
        .flat_map(|r| r.scopes)
        .collect();
    assert!(
        asked.contains(&"registry:catalog:*".to_string()),
        "{asked:?}"
    );
}

#[test]
fn every_credential_source_works_with_tokens() {
    let s = setup();
    let image = s.image("team/app:v1");
    let dir = TempDir::new("auth-token-sources");
    let addr = s.registry.addr();

    // config.json `auths` entry (`auth` form).
    let config = dir.join("config.json");
    let auth = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", PULLER.0, PULLER.1))
    };
    std::fs::write(
        &config,
        format!(r#"{{"auths": {{"{addr}": {{"auth": "{auth}"}}}}}}"#),
    )
    .unwrap();
    // config.json with an identity token (OAuth2 refresh-token POST).
    let identity = dir.join("identity.json");
    std::fs::write(
        &identity,
        format!(r#"{{"auths": {{"{addr}": {{"identitytoken": "{PULLER_REFRESH}"}}}}}}"#),
    )
    .unwrap();
    // A credential helper answering the pusher.
    let log = dir.join("asked.log");
    answering_helper(dir.path(), "tokentest", PUSHER.0, PUSHER.1, &log);
    let helper = dir.join("helper.json");
    std::fs::write(
        &helper,
        format!(r#"{{"credHelpers": {{"{addr}": "tokentest"}}}}"#),
    )
    .unwrap();

    let cases: Vec<(&str, Client, &str, &str)> = vec![
        ("builder", s.client(PULLER), PULLER.0, "GET"),
        (
            "builder identity token",
            Client::builder()
                .docker_config(DockerConfigSource::None)
                .credentials(&addr, Credentials::identity_token(PULLER_REFRESH))
                .build()
                .unwrap(),
            PULLER.0,
            "POST",
        ),
        (
            "config.json auth",
            Client::builder()
                .docker_config(DockerConfigSource::Path(config))
                .build()
                .unwrap(),
            PULLER.0,
            "GET",
        ),
        (
            "config.json identitytoken",
            Client::builder()
                .docker_config(DockerConfigSource::Path(identity))
                .build()
                .unwrap(),
            PULLER.0,
            "POST",
        ),
        (
            "credential helper",
            Client::builder()
                .docker_config(DockerConfigSource::Path(helper))
                .credential_helper_dir(dir.path())
                .build()
                .unwrap(),
            PUSHER.0,
            "GET",
        ),
    ];
    for (what, client, user, method) in cases {
        let before = s.tokens.requests().len();
        let m = client
            .get_manifest(&image)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(m.bytes, s.image.2, "{what}");
        let reqs = s.tokens.requests();
        let new = &reqs[before..];
        assert!(!new.is_empty(), "{what}: no token request");
        for r in new {
            assert_eq!(r.user.as_deref(), Some(user), "{what}: {r:?}");
            assert_eq!(r.method, method, "{what}: {r:?}");
            assert_eq!(r.status, 200, "{what}: {r:?}");
        }
    }
    // The helper can push too (it answers the pusher).
    assert_eq!(std::fs::read_to_string(&log).unwrap(), format!("{addr}\n"));
}

#[test]
fn many_tags_cost_a_handful_of_tokens() {
    const TAGS: usize = 300;
    let s = setup();
    let token = s
        .tokens
        .token_for(PUSHER.0, &["repository:many/tags:pull,push"]);
    let auth = format!("Bearer {token}");
    auth_support::push_image_blobs(&s.registry.url(), "many/tags", &s.image, &auth);
    for i in 0..TAGS {
        auth_support::put_manifest(
            &s.registry.url(),
            "many/tags",
            &format!("t{i:03}"),
            &s.image.2,
            &auth,
        );
    }
    let client = s.client(PULLER);
    let before = s.tokens.count();
    let instances = client
        .list_instances(&s.image("many/tags"))
        .expect("list_instances");
    assert_eq!(instances.len(), 1);
    let only = instances.values().next().unwrap();
    assert_eq!(only.tags.len(), TAGS);
    let used = s.tokens.count() - before;
    // One tag listing, 300 HEADs, a manifest and a config: 303 requests, one scope.
    assert!(
        (1..=3).contains(&used),
        "{used} token requests for {TAGS} tags: {:?}",
        s.tokens.requests()
    );
}
