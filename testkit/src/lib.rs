//! placeholder until the testkit lands
