//! `MockGitlab::shared()`: 200 `#[tokio::test]`s, each on its own runtime, share one server
//! through sessions. Each retries job 7 in its own session and must see exactly its own new
//! job: the same new id as every other test (a session starts from the scenario), one more job
//! than the scenario has, and only its own requests in its journal.

use std::sync::OnceLock;

use glmock::MockGitlab;
use serde_json::Value;

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req
        .header("PRIVATE-TOKEN", "glpat-root")
        .send()
        .await
        .expect("request sent");
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
    )
}

fn ids(list: &Value) -> Vec<u64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_u64().unwrap())
        .collect()
}

async fn retry_in_a_session_of_its_own() {
    // The first test to retry fixes the id every other test must get too.
    static NEW_ID: OnceLock<u64> = OnceLock::new();
    let session = MockGitlab::shared();
    session
        .expect("POST", "/api/v4/projects/1/jobs/7/retry")
        .times(1);
    let client = reqwest::Client::new();
    let list = format!("{}/api/v4/projects/1/jobs?per_page=100", session.uri());
    let (status, before) = send(client.get(&list)).await;
    assert_eq!(status, 200);
    let before = ids(&before);
    let (status, job) =
        send(client.post(format!("{}/api/v4/projects/1/jobs/7/retry", session.uri()))).await;
    assert_eq!(status, 201, "{job}");
    let new_id = job["id"].as_u64().unwrap();
    assert_eq!(
        new_id,
        *NEW_ID.get_or_init(|| new_id),
        "another session's retry leaked in"
    );
    let (_, after) = send(client.get(&list)).await;
    let mut expected = vec![new_id];
    expected.extend(&before);
    assert_eq!(ids(&after), expected, "exactly one new job, its own");
    let journal: Vec<(String, u16)> = session
        .received_requests()
        .into_iter()
        .map(|e| (e.method, e.status))
        .collect();
    assert_eq!(
        journal,
        [
            ("GET".into(), 200),
            ("POST".into(), 201),
            ("GET".into(), 200)
        ],
        "only its own requests"
    );
}

macro_rules! shared_tests {
    ($($name:ident)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                retry_in_a_session_of_its_own().await;
            }
        )*
    };
}

shared_tests! {
    t000 t001 t002 t003 t004 t005 t006 t007 t008 t009 t010 t011 t012 t013 t014 t015 t016 t017 t018 t019 t020 t021 t022 t023 t024 t025 t026 t027 t028 t029 t030 t031 t032 t033 t034 t035 t036 t037 t038 t039 t040 t041 t042 t043 t044 t045 t046 t047 t048 t049 t050 t051 t052 t053 t054 t055 t056 t057 t058 t059 t060 t061 t062 t063 t064 t065 t066 t067 t068 t069 t070 t071 t072 t073 t074 t075 t076 t077 t078 t079 t080 t081 t082 t083 t084 t085 t086 t087 t088 t089 t090 t091 t092 t093 t094 t095 t096 t097 t098 t099 t100 t101 t102 t103 t104 t105 t106 t107 t108 t109 t110 t111 t112 t113 t114 t115 t116 t117 t118 t119 t120 t121 t122 t123 t124 t125 t126 t127 t128 t129 t130 t131 t132 t133 t134 t135 t136 t137 t138 t139 t140 t141 t142 t143 t144 t145 t146 t147 t148 t149 t150 t151 t152 t153 t154 t155 t156 t157 t158 t159 t160 t161 t162 t163 t164 t165 t166 t167 t168 t169 t170 t171 t172 t173 t174 t175 t176 t177 t178 t179 t180 t181 t182 t183 t184 t185 t186 t187 t188 t189 t190 t191 t192 t193 t194 t195 t196 t197 t198 t199
}
