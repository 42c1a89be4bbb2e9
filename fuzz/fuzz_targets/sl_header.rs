#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| skl_fuzz::sl_header::run(data));
