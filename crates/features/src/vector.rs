//! [`FeatureVector`]: exactly [`FEATURE_COUNT`] finite values in schema order.

use crate::schema::{FEATURE_COUNT, FEATURES, SCHEMA_VERSION, feature_names};
use crate::{FeatureError, Result};

/// The 100 feature values of one window, in the order of [`FEATURES`]; every value finite.
///
/// Serialises as a plain list of numbers; deserialising checks the width and finiteness.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "Vec<f32>", into = "Vec<f32>")]
pub struct FeatureVector(
    /// Only the extractor (which makes every value finite) builds one directly.
    pub(crate) [f32; FEATURE_COUNT],
);

impl FeatureVector {
    /// Checks width and finiteness of values from elsewhere (a cache, a file).
    pub fn from_slice(values: &[f32]) -> Result<Self> {
        let array: [f32; FEATURE_COUNT] = values.try_into().map_err(|_| FeatureError::Width {
            schema: SCHEMA_VERSION,
            expected: FEATURE_COUNT,
            found: values.len(),
        })?;
        if let Some(index) = array.iter().position(|v| !v.is_finite()) {
            return Err(FeatureError::NonFinite {
                name: FEATURES[index].name,
                index,
                value: array[index],
            });
        }
        Ok(Self(array))
    }

    /// The values as an array.
    pub fn as_array(&self) -> &[f32; FEATURE_COUNT] {
        &self.0
    }

    /// The values as a slice.
    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }

    /// The value of the named feature.
    pub fn get(&self, name: &str) -> Result<f32> {
        crate::schema::feature_index(name).map(|i| self.0[i]).ok_or_else(|| {
            FeatureError::UnknownFeature { name: name.to_owned(), schema: SCHEMA_VERSION }
        })
    }

    /// `(name, value)` pairs in schema order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, f32)> + '_ {
        feature_names().iter().copied().zip(self.0.iter().copied())
    }
}

impl From<FeatureVector> for Vec<f32> {
    fn from(v: FeatureVector) -> Self {
        v.0.to_vec()
    }
}

impl TryFrom<Vec<f32>> for FeatureVector {
    type Error = FeatureError;
    fn try_from(v: Vec<f32>) -> Result<Self> {
        Self::from_slice(&v)
    }
}

impl std::ops::Index<usize> for FeatureVector {
    type Output = f32;
    fn index(&self, i: usize) -> &f32 {
        &self.0[i]
    }
}

/// Checks that a stored feature list (e.g. from a model artifact) is exactly this schema's.
pub fn check_schema(version: &str, names: &[impl AsRef<str>]) -> Result<()> {
    if version != SCHEMA_VERSION {
        return Err(FeatureError::SchemaMismatch {
            expected: SCHEMA_VERSION.into(),
            found: version.into(),
        });
    }
    if names.len() != FEATURE_COUNT {
        return Err(FeatureError::Width {
            schema: SCHEMA_VERSION,
            expected: FEATURE_COUNT,
            found: names.len(),
        });
    }
    for (i, (ours, theirs)) in feature_names().iter().zip(names).enumerate() {
        if *ours != theirs.as_ref() {
            return Err(FeatureError::SchemaMismatch {
                expected: format!("feature {i} = {ours}"),
                found: format!("feature {i} = {}", theirs.as_ref()),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_and_finiteness_are_checked() {
        let e = FeatureVector::from_slice(&[0.0; 99]).unwrap_err().to_string();
        assert_eq!(e, "feature schema v2 has 100 features, got 99 values");
        let mut v = vec![0.0; 100];
        v[2] = f32::NAN;
        let e = FeatureVector::from_slice(&v).unwrap_err().to_string();
        assert_eq!(e, "feature day_of_week (index 2) is not finite: NaN");
        v[2] = 1.0;
        let fv = FeatureVector::try_from(v.clone()).unwrap();
        assert_eq!(fv.get("day_of_week").unwrap(), 1.0);
        assert_eq!(fv[2], 1.0);
        assert!(fv.get("nope").is_err());
        let json = serde_json::to_string(&fv).unwrap();
        assert_eq!(serde_json::from_str::<FeatureVector>(&json).unwrap(), fv);
        assert!(serde_json::from_str::<FeatureVector>("[1.0]").is_err());
    }

    #[test]
    fn stored_schemas_must_match_exactly() {
        let names: Vec<&str> = feature_names().to_vec();
        check_schema(SCHEMA_VERSION, &names).unwrap();
        // A v1 artifact or vector (the schema before flows were sessions) is refused.
        assert_eq!(
            check_schema("v1", &names).unwrap_err().to_string(),
            "feature schema mismatch: expected v2, found v1"
        );
        let mut swapped = names.clone();
        swapped.swap(0, 1);
        assert_eq!(
            check_schema(SCHEMA_VERSION, &swapped).unwrap_err().to_string(),
            "feature schema mismatch: expected feature 0 = hour_sin, found feature 0 = hour_cos"
        );
        assert!(check_schema(SCHEMA_VERSION, &names[..10]).is_err());
    }
}
