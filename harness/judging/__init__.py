"""LLM-as-judge: templates as data, the pairwise protocol (both orders), rubric and closed-QA grading,
reply parsing with bounded re-asks, the judge cache, and the statistics blocks of summary.json."""
