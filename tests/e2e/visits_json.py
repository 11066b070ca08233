"""Reads `lumen explain --patient N --json` of a visit-sequence model on stdin and prints
  ROWS TOP_OK RESIDUAL LABS
ROWS the visit x lab matrix's rows (the visits read), TOP_OK 1 when "top" is the visit of
the largest |attribution|, RESIDUAL (visits + padded steps + static inputs) - (logit -
baseline logit), which completeness makes ~0, LABS the matrix's labs joined by commas."""
import json
import sys

j = json.load(sys.stdin)
v = j["visits"]
total = sum(v["per_visit"]) + v["padded"] + v["static"]
top = max(range(len(v["per_visit"])), key=lambda r: abs(v["per_visit"][r]))
print("%d %d %.4f %s" % (len(v["matrix"]), top == v["top"], total - (j["logit"] - j["baseline_logit"]),
                         ",".join(v["labs"])))
