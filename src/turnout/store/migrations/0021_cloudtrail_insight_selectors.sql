-- CloudTrail Insights selectors of a trail (PutInsightSelectors), kept with the trail.
-- insight_selectors: JSON list in botocore's InsightSelector shape ([{"InsightType": ..., "EventCategories": [...]}]);
-- NULL: Insights are not enabled (never put, or put with an empty list).

ALTER TABLE cloudtrail_trails ADD COLUMN insight_selectors TEXT;
