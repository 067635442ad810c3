use crate::support::*;

#[tokio::test]
async fn health_reports_ok_and_versions() {
    let s = TestServer::default_scenario().await;
    let r = s.get(&format!("{}/-/glmock/health", s.url), None).await;
    assert_eq!(r.status, 200);
    let body = r.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["gitlab_version"], "18.5");
}
