import pandas as pd

from rnce_bag.claims import clinical_claims, format_claims


def _tables():
    tasks = ("ad_vs_cn", "conversion_2y", "conversion_3y", "amyloid")
    auc = {"FS": 0.70, "SIMCLR": 0.65, "BARLOW": 0.72, "RNCE": 0.76}
    scores = pd.DataFrame([{"task": t, "representation": r, "n": 800, "n_pos": 200, "auc": a}
                           for t in tasks for r, a in auc.items()])
    pairs = []
    for t in tasks:
        for r in ("SIMCLR", "BARLOW", "RNCE"):
            p = {"SIMCLR": 0.01, "BARLOW": 0.30, "RNCE": 1e-5 if t == "conversion_2y" else 0.2}[r]
            pairs.append({"task": t, "rep_a": "FS", "rep_b": r, "auc_a": auc["FS"],
                          "auc_b": auc[r], "auc_diff": auc["FS"] - auc[r], "p_delong": p,
                          "p_holm": min(1.0, 12 * p)})
    # one pair stored the other way round: the claim is oriented against FS all the same
    pairs[0] = {"task": "ad_vs_cn", "rep_a": "SIMCLR", "rep_b": "FS", "auc_a": 0.65,
                "auc_b": 0.70, "auc_diff": -0.05, "p_delong": 0.01, "p_holm": 0.12}
    return scores, pd.DataFrame(pairs)


def test_claims_are_met_only_with_the_claimed_sign_and_p():
    c = clinical_claims(*_tables()).set_index(["claim", "representation", "task"])
    assert len(c) == 2 * 4 + 2
    assert c.loc[(1, "SIMCLR", "ad_vs_cn"), "status"] == "met"
    assert abs(c.loc[(1, "SIMCLR", "ad_vs_cn"), "auc_diff"] + 0.05) < 1e-12  # SimCLR - FS
    assert c.loc[(1, "BARLOW", "amyloid"), "status"] == "not met"  # above FS
    assert c.loc[(2, "RNCE", "conversion_2y"), "status"] == "met"
    assert c.loc[(2, "RNCE", "conversion_3y"), "status"] == "direction only"
    lines = format_claims(clinical_claims(*_tables()))
    assert lines[0].startswith("claim 1: generic SSL") and any("claim 2: R-NCE" in x
                                                                for x in lines)


def test_no_methods_no_claims():
    scores, pairs = _tables()
    only_fs = pairs[pairs["rep_b"] == "NOPE"]
    assert clinical_claims(scores, only_fs).empty
