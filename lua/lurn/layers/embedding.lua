--- Embedding(input_dim, output_dim, opts): token ids -> dense vectors, as Keras' Embedding.
-- Input (N, steps) (or any per-sample shape) of token ids stored as numbers: 0-based
-- integers in [0, input_dim), 0 being padding as in Keras; output (N, steps, output_dim),
-- row id of the embeddings (input_dim, output_dim). An id that is not such an integer (a
-- fraction, a negative, NaN, input_dim or more) is an error naming the sample and the
-- position. The ids get no gradient. Options: embeddings_initializer ("uniform", Keras'
-- RandomUniform(-0.05, 0.05)), embeddings_regularizer, activity_regularizer, mask_zero
-- (false), input_length (Keras 2: input_shape = {input_length}), input_shape.
-- mask_zero = true: id 0 is padding, and the output carries a mask (batch, steps) that the
-- layers after it pass on (Dense, Dropout, ...) or use (the recurrent layers skip padded
-- steps); a layer that cannot take a mask is an error, as in Keras.
local core = require "lurn.core"
local Layer = require "lurn.layers.layer"
local initializers = require "lurn.initializers"
local text = require "lurn.text"

local Embedding = Layer._define("Embedding")
Embedding._options = {"input_dim", "output_dim", "embeddings_initializer", "embeddings_regularizer",
                      "activity_regularizer", "mask_zero", "input_length"}
Embedding._unsupported_options = {"embeddings_constraint", "sparse"}

local function positive(v, what)
  if math.type(v) ~= "integer" or v < 1 then
    error(("Embedding: %s must be a positive integer, got %s"):format(what, text.shown(v)), 3)
  end
  return v
end

function Embedding._new(input_dim, output_dim, opts)
  if type(input_dim) == "table" and output_dim == nil and opts == nil then
    input_dim, output_dim, opts = input_dim.input_dim, input_dim.output_dim, input_dim
  end
  opts = opts or {}
  positive(input_dim, "input_dim")
  positive(output_dim, "output_dim")
  if opts.mask_zero ~= nil and type(opts.mask_zero) ~= "boolean" then
    error(("Embedding: mask_zero must be true or false, got %s"):format(tostring(opts.mask_zero)), 2)
  end
  local setup_opts = opts
  if opts.input_length ~= nil then
    positive(opts.input_length, "input_length")
    if opts.input_shape ~= nil then
      error("Embedding: give input_length or input_shape, not both", 2)
    end
    setup_opts = Layer._copy_data(opts)
    setup_opts.input_shape = {opts.input_length}
  end
  -- input_dim is Embedding's vocabulary size, not the base Layer's input_dim = n shorthand
  if setup_opts.input_dim ~= nil then
    setup_opts = Layer._copy_data(setup_opts)
    setup_opts.input_dim = nil
  end
  local self = Layer.setup(setmetatable({}, Embedding), setup_opts)
  if opts.input_length ~= nil then self._config_input_shape = nil end  -- reported as input_length
  self.input_dim, self.output_dim = input_dim, output_dim
  self.mask_zero, self.input_length = opts.mask_zero == true, opts.input_length
  self.embeddings_initializer = initializers.get(opts.embeddings_initializer or "uniform")
  self:_regularize(1, opts.embeddings_regularizer)
  self:_regularize("activity", opts.activity_regularizer)
  return self
end

function Embedding:_create()
  return core.embedding_layer{input_dim = self.input_dim, output_dim = self.output_dim,
                              embeddings_initializer = self.embeddings_initializer, mask_zero = self.mask_zero}
end

function Embedding:get_config()
  local cfg = Layer.get_config(self)
  cfg.input_dim, cfg.output_dim, cfg.mask_zero = self.input_dim, self.output_dim, self.mask_zero
  cfg.input_length = self.input_length
  cfg.embeddings_initializer = initializers.serialize(self.embeddings_initializer)
  self:_regularizer_config(cfg, {"embeddings_regularizer"})
  return cfg
end

return {Embedding = Embedding}
