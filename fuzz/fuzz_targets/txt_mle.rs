#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| skl_fuzz::txt_mle::run(data));
