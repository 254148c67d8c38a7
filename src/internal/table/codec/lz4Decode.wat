;; The LZ4 block decoder (lz4's lz4_Block_format.md) in WebAssembly: the same checks as the
;; JavaScript decoder in lz4Block.ts, five times its speed on the benchmark's 4 KiB blocks.
;; scripts/build-lz4-wasm.ts compiles this file into lz4Wasm.ts (WASM_BASE64); a test checks the two
;; agree. Memory: 8 pages; the caller (lz4Wasm.ts) keeps the input in [0, 256 KiB) and the output in
;; [256 KiB, 512 KiB), each at most 256 KiB - 16: copies move 8 or 16 bytes at a time, so they may
;; read and write up to 16 bytes past an end (the writes are overwritten by the sequences after).
(module
  (memory (export "memory") 8)
  (global $inputEnd (export "inputEnd") (mut i32) (i32.const 0))
  ;; Decodes whole sequences of the input [ip, to) into the output [base, out) from op until
  ;; op >= need or the input ends. Returns the new op (and where the input stopped in
  ;; inputEnd), or -1 when a length or offset does not fit the input or the output.
  (func (export "decode") (param $ip i32) (param $to i32) (param $base i32) (param $op i32) (param $out i32) (param $need i32) (result i32)
    (local $token i32) (local $lit i32) (local $b i32) (local $off i32) (local $len i32) (local $m i32) (local $end i32)
    (block $done
      (loop $seq
        (br_if $done (i32.ge_u (local.get $op) (local.get $need)))
        (if (i32.ge_u (local.get $ip) (local.get $to)) (then (return (i32.const -1))))
        (local.set $token (i32.load8_u (local.get $ip)))
        (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
        (local.set $lit (i32.shr_u (local.get $token) (i32.const 4)))
        (if (i32.eq (local.get $lit) (i32.const 15))
          (then (loop $l
            (if (i32.ge_u (local.get $ip) (local.get $to)) (then (return (i32.const -1))))
            (local.set $b (i32.load8_u (local.get $ip)))
            (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
            (local.set $lit (i32.add (local.get $lit) (local.get $b)))
            (br_if $l (i32.eq (local.get $b) (i32.const 255))))))
        (if (i32.gt_u (local.get $lit) (i32.sub (local.get $to) (local.get $ip))) (then (return (i32.const -1))))
        (if (i32.gt_u (local.get $lit) (i32.sub (local.get $out) (local.get $op))) (then (return (i32.const -1))))
        (if (i32.le_u (local.get $lit) (i32.const 16))
          (then
            (i64.store (local.get $op) (i64.load (local.get $ip)))
            (i64.store offset=8 (local.get $op) (i64.load offset=8 (local.get $ip))))
          (else (memory.copy (local.get $op) (local.get $ip) (local.get $lit))))
        (local.set $ip (i32.add (local.get $ip) (local.get $lit)))
        (local.set $op (i32.add (local.get $op) (local.get $lit)))
        (br_if $done (i32.eq (local.get $ip) (local.get $to)))
        (if (i32.lt_u (i32.sub (local.get $to) (local.get $ip)) (i32.const 2)) (then (return (i32.const -1))))
        (local.set $off (i32.load16_u (local.get $ip)))
        (local.set $ip (i32.add (local.get $ip) (i32.const 2)))
        (if (i32.or (i32.eqz (local.get $off)) (i32.gt_u (local.get $off) (i32.sub (local.get $op) (local.get $base))))
          (then (return (i32.const -1))))
        (local.set $len (i32.and (local.get $token) (i32.const 15)))
        (if (i32.eq (local.get $len) (i32.const 15))
          (then (loop $l2
            (if (i32.ge_u (local.get $ip) (local.get $to)) (then (return (i32.const -1))))
            (local.set $b (i32.load8_u (local.get $ip)))
            (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
            (local.set $len (i32.add (local.get $len) (local.get $b)))
            (br_if $l2 (i32.eq (local.get $b) (i32.const 255))))))
        (local.set $len (i32.add (local.get $len) (i32.const 4)))
        (if (i32.gt_u (local.get $len) (i32.sub (local.get $out) (local.get $op))) (then (return (i32.const -1))))
        (local.set $m (i32.sub (local.get $op) (local.get $off)))
        (local.set $end (i32.add (local.get $op) (local.get $len)))
        (if (i32.ge_u (local.get $off) (i32.const 8))
          (then (loop $c8
            (i64.store (local.get $op) (i64.load (local.get $m)))
            (local.set $op (i32.add (local.get $op) (i32.const 8)))
            (local.set $m (i32.add (local.get $m) (i32.const 8)))
            (br_if $c8 (i32.lt_u (local.get $op) (local.get $end)))))
          (else (loop $c1
            (i32.store8 (local.get $op) (i32.load8_u (local.get $m)))
            (local.set $op (i32.add (local.get $op) (i32.const 1)))
            (local.set $m (i32.add (local.get $m) (i32.const 1)))
            (br_if $c1 (i32.lt_u (local.get $op) (local.get $end))))))
        (local.set $op (local.get $end))
        (br $seq)))
    (global.set $inputEnd (local.get $ip))
    (local.get $op))
)
