//! `node::start` as `stoad start` runs it: store under the home directory, ABCI, gRPC and REST on the
//! configured addresses; a taken port fails the start instead of a background thread.

use std::time::Duration;
use stoa_app::config::AppConfig;
use tendermint_abci::ClientBuilder;
use tendermint_proto::v0_38::abci::RequestInfo;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn start_serves_abci_and_grpc() {
    let home = tempfile::tempdir().unwrap();
    let config = AppConfig {
        abci_addr: format!("127.0.0.1:{}", free_port()),
        grpc_addr: format!("127.0.0.1:{}", free_port()),
        metrics_addr: format!("127.0.0.1:{}", free_port()),
        rest_addr: format!("127.0.0.1:{}", free_port()),
        ..AppConfig::default()
    };
    config.write(home.path()).unwrap();
    let loaded = AppConfig::load(home.path()).unwrap();
    assert_eq!(loaded, config);
    let path = home.path().to_path_buf();
    std::thread::spawn(move || stoa_app::node::start(&path, loaded));

    let mut client = None;
    for _ in 0..200 {
        if let Ok(c) = ClientBuilder::default().connect(&config.abci_addr) {
            client = Some(c);
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let info = client
        .expect("ABCI is served")
        .info(RequestInfo::default())
        .unwrap();
    assert_eq!(info.last_block_height, 0);
    assert!(
        home.path().join("data/stoa").is_dir(),
        "the store lives under the home directory"
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use cosmos_sdk_proto::cosmos::auth::v1beta1 as auth;
        let mut c =
            auth::query_client::QueryClient::connect(format!("http://{}", config.grpc_addr))
                .await
                .unwrap();
        let r = c.bech32_prefix(auth::Bech32PrefixRequest {}).await.unwrap();
        assert_eq!(r.into_inner().bech32_prefix, "stoa");
    });

    // A second node on the same home and ports cannot start (the ports are taken).
    let again = AppConfig {
        abci_addr: format!("127.0.0.1:{}", free_port()),
        ..config.clone()
    };
    let other_home = tempfile::tempdir().unwrap();
    let err = stoa_app::node::start(other_home.path(), again).unwrap_err();
    assert!(format!("{err:#}").contains("binding gRPC"), "{err:#}");

    // The REST gateway answers on its port, and a taken REST port fails the start too.
    let mut s = std::net::TcpStream::connect(&config.rest_addr).unwrap();
    use std::io::{Read, Write};
    write!(
        s,
        "GET /cosmos/auth/v1beta1/bech32 HTTP/1.0\r\nHost: x\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
    assert!(answer.ends_with(r#"{"bech32_prefix":"stoa"}"#), "{answer}");
    let again = AppConfig {
        abci_addr: format!("127.0.0.1:{}", free_port()),
        grpc_addr: format!("127.0.0.1:{}", free_port()),
        ..config.clone()
    };
    let err = stoa_app::node::start(tempfile::tempdir().unwrap().path(), again).unwrap_err();
    assert!(
        format!("{err:#}").contains("binding the REST gateway"),
        "{err:#}"
    );
}
