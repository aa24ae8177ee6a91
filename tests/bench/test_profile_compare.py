#!/usr/bin/python3
"""bench/profile_compare.py's aggregation: calls, inclusive and self time per operator,
on hand-made traces whose answers are known (run by ctest as ProfileCompare.*)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
import profile_compare as pc  # noqa: E402


def ev(name, ts, dur, tid=1):
    return {"name": name, "ph": "X", "ts": ts, "dur": dur, "tid": tid, "pid": "CPU Functions", "args": {}}


class SelfTime(unittest.TestCase):
    def test_nested_events_give_their_time_to_the_parent_only_once(self):
        # A [0, 10) holds B [2, 5) and C [6, 8); B holds D [3, 4). Another thread runs A [0, 4).
        events = [ev("A", 0, 10), ev("B", 2, 3), ev("D", 3, 1), ev("C", 6, 2), ev("A", 0, 4, tid=2)]
        agg = pc.aggregate(events)
        self.assertEqual(agg["A"], [2, 14.0, 5.0 + 4.0])  # self: 10 - 3 - 2, plus the other thread's 4
        self.assertEqual(agg["B"], [1, 3.0, 2.0])
        self.assertEqual(agg["D"], [1, 1.0, 1.0])
        self.assertEqual(agg["C"], [1, 2.0, 2.0])
        self.assertEqual(sum(v[2] for v in agg.values()), 10.0 + 4.0)  # self times add up to the busy time

    def test_an_event_starting_where_another_ends_is_a_sibling(self):
        agg = pc.aggregate([ev("P", 0, 10), ev("X", 0, 5), ev("Y", 5, 5)])
        self.assertEqual(agg["P"][2], 0.0)
        self.assertEqual(agg["X"][2], 5.0)
        self.assertEqual(agg["Y"][2], 5.0)

    def test_legacy_writer_output_with_a_trailing_comma_loads(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.json")
            with open(path, "w") as f:
                f.write("[\n" + json.dumps(ev("A", 0, 1)) + ",\n" + json.dumps(ev("B", 1, 1)) + ",\n]")
            self.assertEqual([e["name"] for e in pc.load(path)], ["A", "B"])

    def test_the_table_sets_both_traces_side_by_side(self):
        with tempfile.TemporaryDirectory() as d:
            ours, theirs = os.path.join(d, "o.json"), os.path.join(d, "t.json")
            json.dump([ev("aten::cat", 0, 3000)], open(ours, "w"))
            json.dump({"traceEvents": [ev("aten::cat", 0, 1000), ev("aten::fill_", 1000, 500)]}, open(theirs, "w"))
            out = subprocess.run([sys.executable, os.path.join(HERE, "..", "..", "bench", "profile_compare.py"), ours,
                                  theirs], check=True, stdout=subprocess.PIPE, text=True).stdout
            self.assertIn("| aten::cat | 1 / 1 | 3.0 / 1.0 | 3.0 / 1.0 | +2.0 |", out)
            self.assertIn("| aten::fill_ | 0 / 1 |", out)


if __name__ == "__main__":
    unittest.main()
