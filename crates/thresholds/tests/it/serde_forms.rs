//! The serialised forms that go into model artifacts and configuration files.

use vigil_thresholds::{Objective, Search, ThresholdParams, Thresholds};

#[test]
fn thresholds_round_trip_and_are_validated_on_the_way_in() {
    let thresholds = Thresholds::new(vec![1.0, 0.25, 0.5], 0).unwrap();
    let json = serde_json::to_string(&thresholds).unwrap();
    assert_eq!(json, r#"{"per_class":[1.0,0.25,0.5],"normal_class":0}"#);
    assert_eq!(serde_json::from_str::<Thresholds>(&json).unwrap(), thresholds);
    for bad in [
        r#"{"per_class":[1.0,1.25],"normal_class":0}"#,
        r#"{"per_class":[1.0,0.5],"normal_class":2}"#,
        r#"{"per_class":[],"normal_class":0}"#,
    ] {
        let error = serde_json::from_str::<Thresholds>(bad).unwrap_err().to_string();
        assert!(error.contains("threshold") || error.contains("class"), "{bad}: {error}");
    }
}

#[test]
fn params_read_from_json_with_text_objectives() {
    let json = r#"{
        "objective": "f1",
        "class_objectives": [[6, "recall@precision=0.8"]],
        "search": {"bayesian": {"iterations": 30, "seed": 7}}
    }"#;
    let params: ThresholdParams = serde_json::from_str(json).unwrap();
    assert_eq!(
        params,
        ThresholdParams {
            class_objectives: vec![(6, Objective::Recall { min_precision: 0.8 })],
            search: Search::Bayesian { iterations: 30, seed: 7 },
            ..ThresholdParams::default()
        }
    );
    let back: ThresholdParams =
        serde_json::from_str(&serde_json::to_string(&params).unwrap()).unwrap();
    assert_eq!(back, params);
    assert!(serde_json::from_str::<ThresholdParams>(r#"{"objective": "recall"}"#).is_err());
    assert!(serde_json::from_str::<ThresholdParams>(r#"{"thresholds": 1}"#).is_err());
}
